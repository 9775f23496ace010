#include "weights/hdf5_util.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "weights/hdf5_heap_check.h"

namespace catdog::h5 {
namespace {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

// Keras' limit for one attribute (HDF5's object header is 64 KiB, minus some room).
constexpr size_t kAttributeLimit = 64512;
// No Keras weight has more than 5 dimensions; this bounds what a corrupt header can ask for.
constexpr int kMaxRank = 8;
constexpr uint64_t kMaxElements = uint64_t{1} << 31;

Handle check(hid_t id, Handle::Closer closer, const std::string& what) {
  if (id < 0) fail(what);
  return Handle(id, closer);
}

std::vector<std::string> split_path(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    if (slash > start) parts.push_back(name.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// Read one string attribute or dataset into a list (each element trimmed at its first NUL).
std::vector<std::string> read_strings(hid_t object, bool is_dataset, const std::string& context) {
  const auto read = [&](hid_t memtype, void* buffer) {
    return is_dataset ? H5Dread(object, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer)
                      : H5Aread(object, memtype, buffer);
  };
  Handle type = check(is_dataset ? H5Dget_type(object) : H5Aget_type(object), H5Tclose,
                      context + ": cannot read its type");
  Handle space = check(is_dataset ? H5Dget_space(object) : H5Aget_space(object), H5Sclose,
                       context + ": cannot read its shape");
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  CATDOG_CHECK(count >= 0, context, ": cannot read its shape");
  H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_STRING) {
    // Keras writes "no weights" as an empty float64 array; any other non-string is an error.
    CATDOG_CHECK(count == 0, context, ": expected strings, found a non-string attribute");
    return {};
  }
  std::vector<std::string> out;
  if (count == 0) return out;
  H5T_cset_t cset = H5Tget_cset(type.get());
  htri_t variable = H5Tis_variable_str(type.get());
  CATDOG_CHECK(variable >= 0, context, ": cannot read its string type");
  // Cap by what the file really stores, so a corrupt count cannot make us allocate gigabytes.
  hsize_t stored = is_dataset ? H5Dget_storage_size(object) : H5Aget_storage_size(object);
  if (variable) {
    CATDOG_CHECK(static_cast<hsize_t>(count) <= std::max<hsize_t>(stored, 1), context,
                 ": claims ", count, " strings in ", stored, " bytes");
    Handle memtype = check(H5Tcopy(H5T_C_S1), H5Tclose, context + ": H5Tcopy failed");
    if (H5Tset_size(memtype.get(), H5T_VARIABLE) < 0 || H5Tset_cset(memtype.get(), cset) < 0)
      fail(context, ": cannot set up a variable-length string type");
    std::vector<char*> pointers(static_cast<size_t>(count), nullptr);
    if (read(memtype.get(), pointers.data()) < 0)
      fail(context, ": cannot read the variable-length strings");
    for (char* p : pointers) out.emplace_back(p ? p : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memtype.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
    H5Dvlen_reclaim(memtype.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
    return out;
  }
  size_t size = H5Tget_size(type.get());
  CATDOG_CHECK(size > 0, context, ": string type of size 0");
  uint64_t bytes = static_cast<uint64_t>(count) * size;
  CATDOG_CHECK(bytes <= stored, context, ": claims ", bytes, " bytes of strings but stores ", stored);
  Handle memtype = check(H5Tcopy(H5T_C_S1), H5Tclose, context + ": H5Tcopy failed");
  if (H5Tset_size(memtype.get(), size) < 0 || H5Tset_cset(memtype.get(), cset) < 0 ||
      H5Tset_strpad(memtype.get(), H5T_STR_NULLPAD) < 0)
    fail(context, ": cannot set up a fixed-length string type");
  std::vector<char> buffer(bytes);
  if (read(memtype.get(), buffer.data()) < 0)
    fail(context, ": cannot read the fixed-length strings");
  for (hssize_t i = 0; i < count; ++i) {
    const char* start = buffer.data() + i * size;
    out.emplace_back(start, strnlen(start, size));
  }
  return out;
}

std::vector<std::string> read_attribute_strings(hid_t object, const std::string& name,
                                                const std::string& context) {
  std::string where = context + ": attribute '" + name + "'";
  Handle attribute = check(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose,
                           where + ": cannot open it");
  return read_strings(attribute.get(), false, where);
}

}  // namespace

Session::Session() : lock_(hdf5_mutex()) {
  // No cleanup at exit: every file we open is closed by its Handle, and after a failed write
  // (disk full) HDF5 1.10's exit-time close of that file crashes. This must precede any other
  // HDF5 call, and Session is the first thing every entry point makes.
  static const bool no_atexit = (H5dont_atexit(), true);
  (void)no_atexit;
  // Errors come back as return values that we turn into catdog::Error; never print the stack.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_) closer_(id_);
  id_ = -1;
}

herr_t Handle::close() {
  herr_t status = (id_ >= 0 && closer_) ? closer_(id_) : 0;
  id_ = -1;
  return status;
}

Handle open_file_for_reading(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode))
    fail(path, ": not a regular file (a directory?)");
  std::FILE* probe = std::fopen(path.c_str(), "rb");
  if (!probe) fail("cannot open ", path, ": ", std::strerror(errno));
  char first = 0;
  size_t got = std::fread(&first, 1, 1, probe);
  std::fclose(probe);
  CATDOG_CHECK(got == 1, path, ": the file is empty (not an HDF5 file)");
  htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  CATDOG_CHECK(is_hdf5 > 0, path, ": not an HDF5 file (no HDF5 signature found)");
  check_global_heaps(path);  // before HDF5 can loop forever on a corrupt one
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  CATDOG_CHECK(id >= 0, path, ": the HDF5 library cannot open it (truncated or corrupt file?)");
  return Handle(id, H5Fclose);
}

Handle create_file(const std::string& path, const std::string& target) {
  Handle fapl = check(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate failed");
  // STRONG: H5Fclose closes every object still open, so the file is complete when it returns.
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  errno = 0;
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get());
  if (id < 0)
    fail("cannot write ", target, ": cannot create the temporary file ", path, ": ",
         errno ? std::strerror(errno) : "HDF5 error");
  return Handle(id, H5Fclose);
}

bool has_link(hid_t object, const std::string& name) {
  std::vector<std::string> parts = split_path(name);
  if (parts.empty()) return false;
  Handle current;
  hid_t at = object;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (H5Lexists(at, parts[i].c_str(), H5P_DEFAULT) <= 0) return false;
    if (i + 1 == parts.size()) return true;
    hid_t next = H5Gopen2(at, parts[i].c_str(), H5P_DEFAULT);
    if (next < 0) return false;  // exists but is not a group
    current = Handle(next, H5Gclose);
    at = current.get();
  }
  return true;
}

bool has_attribute(hid_t object, const std::string& name) {
  return H5Aexists(object, name.c_str()) > 0;
}

bool is_group(hid_t object, const std::string& name) {
  if (!has_link(object, name)) return false;
  hid_t id = H5Gopen2(object, name.c_str(), H5P_DEFAULT);
  if (id < 0) return false;
  H5Gclose(id);
  return true;
}

Handle open_group(hid_t parent, const std::string& name, const std::string& context) {
  CATDOG_CHECK(has_link(parent, name), context, ": no group '", name, "'");
  return check(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose,
               context + ": '" + name + "' is not a group (or cannot be opened)");
}

Handle try_open_dataset(hid_t parent, const std::string& name) {
  if (!has_link(parent, name)) return Handle();
  hid_t id = H5Dopen2(parent, name.c_str(), H5P_DEFAULT);
  return id < 0 ? Handle() : Handle(id, H5Dclose);
}

std::vector<std::string> list_links(hid_t group, size_t max_count, const std::string& context) {
  H5G_info_t info{};
  CATDOG_CHECK(H5Gget_info(group, &info) >= 0, context, ": cannot list the group");
  CATDOG_CHECK(info.nlinks <= max_count, context, ": holds ", info.nlinks, " entries, more than ",
               max_count, " (corrupt file?)");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0,
                                            H5P_DEFAULT);
    CATDOG_CHECK(size >= 0 && size < 65536, context, ": cannot read the name of entry ", i);
    std::string name(static_cast<size_t>(size) + 1, '\0');
    CATDOG_CHECK(H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                                    name.size(), H5P_DEFAULT) >= 0,
                 context, ": cannot read the name of entry ", i);
    name.resize(static_cast<size_t>(size));
    names.push_back(std::move(name));
  }
  return names;
}

std::string read_string_attribute(hid_t object, const std::string& name,
                                  const std::string& context) {
  if (!has_attribute(object, name)) return "";
  std::vector<std::string> values = read_attribute_strings(object, name, context);
  CATDOG_CHECK(values.size() <= 1, context, ": attribute '", name, "' holds ", values.size(),
               " strings, expected one");
  return values.empty() ? "" : values[0];
}

std::string read_string_dataset(hid_t object, const std::string& name,
                                const std::string& context) {
  if (!has_link(object, name)) return "";
  std::string where = context + ": dataset '" + name + "'";
  Handle dataset = try_open_dataset(object, name);
  CATDOG_CHECK(dataset.valid(), where, ": not a dataset");
  std::vector<std::string> values = read_strings(dataset.get(), true, where);
  CATDOG_CHECK(values.size() <= 1, where, ": holds ", values.size(), " strings, expected one");
  return values.empty() ? "" : values[0];
}

std::vector<std::string> read_string_list_attribute(hid_t object, const std::string& name,
                                                    const std::string& context, bool* present) {
  if (has_attribute(object, name)) {
    if (present) *present = true;
    return read_attribute_strings(object, name, context);
  }
  std::vector<std::string> all;
  int chunk = 0;
  for (; has_attribute(object, name + std::to_string(chunk)); ++chunk) {
    std::vector<std::string> part =
        read_attribute_strings(object, name + std::to_string(chunk), context);
    all.insert(all.end(), part.begin(), part.end());
  }
  if (present) *present = chunk > 0;
  return all;
}

void read_float_dataset(hid_t dataset, const std::string& context, Shape& shape,
                        std::vector<float>& values, bool allow_integer, uint64_t max_elements) {
  Handle type = check(H5Dget_type(dataset), H5Tclose, context + ": cannot read its type");
  H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_FLOAT && !(allow_integer && type_class == H5T_INTEGER)) {
    const char* kind = type_class == H5T_INTEGER ? "integer" : type_class == H5T_STRING ? "string"
                                                                                      : "non-float";
    fail(context, ": holds ", kind, " data; weights must be floating point (float32)");
  }
  Handle space = check(H5Dget_space(dataset), H5Sclose, context + ": cannot read its shape");
  H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
  CATDOG_CHECK(space_class == H5S_SCALAR || space_class == H5S_SIMPLE, context,
               ": has no data (null dataspace)");
  int rank = H5Sget_simple_extent_ndims(space.get());
  CATDOG_CHECK(rank >= 0 && rank <= kMaxRank, context, ": absurd rank ", rank);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    fail(context, ": cannot read its dimensions");
  shape.assign(dims.begin(), dims.end());
  uint64_t count = 1;
  for (hsize_t d : dims) {
    CATDOG_CHECK(d <= kMaxElements && (count *= d) <= kMaxElements, context, ": absurd shape ",
                 to_string(shape));
  }
  CATDOG_CHECK(count <= max_elements, context, ": shape ", to_string(shape), " holds ", count,
               " values, more than the model's largest parameter (", max_elements,
               "); refused before reading it");
  values.clear();
  if (count == 0) return;
  // A lying header could declare a huge shape over a few stored bytes: allocate only what the
  // file really holds, allowing for compression when the dataset is filtered. Trained weights
  // barely compress (their mantissas are noise: gzip gains ~10%); only constant arrays do, and
  // those (biases, BatchNormalization statistics) are small: so up to 64 times what is stored,
  // plus 1 MiB. A "decompression bomb" (a 512 MiB kernel of zeros in 0.6 MB) is refused here,
  // for a --weights file as for a model, before anything is allocated for it.
  const uint64_t declared = count * H5Tget_size(type.get());
  const uint64_t stored = H5Dget_storage_size(dataset);
  Handle plist = check(H5Dget_create_plist(dataset), H5Pclose, context + ": cannot read its layout");
  const bool filtered = H5Pget_nfilters(plist.get()) > 0;
  const uint64_t allowed = filtered ? stored * 64 + (1 << 20) : stored;
  CATDOG_CHECK(declared <= allowed, context, ": shape ", to_string(shape), " needs ", declared,
               " bytes but the file stores only ", stored,
               filtered ? " compressed (more than 64 times smaller: refused before decompressing)"
                        : " (truncated or corrupt)");
  values.resize(count);
  if (H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    fail(context, ": cannot read the data (truncated or corrupt file?)");
}

namespace {

// The fixed-length, null-padded string type that holds `value` (ASCII, or UTF-8 when not pure
// ASCII), as h5py writes numpy bytes.
Handle string_type_for(const std::string& value, const std::string& where) {
  Handle type = check(H5Tcopy(H5T_C_S1), H5Tclose, where + ": H5Tcopy failed");
  bool ascii = std::all_of(value.begin(), value.end(), [](char c) { return (c & 0x80) == 0; });
  if (H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type.get(), ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8) < 0)
    fail(where, ": cannot set up the string type");
  return type;
}

}  // namespace

void write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                            const std::string& context) {
  std::string where = context + ": attribute '" + name + "'";
  CATDOG_CHECK(value.size() <= kAttributeLimit, where, ": ", value.size(),
               " bytes is more than one HDF5 attribute can hold (", kAttributeLimit, ")");
  Handle type = string_type_for(value, where);
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, where + ": H5Screate failed");
  Handle attribute = check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                      H5P_DEFAULT), H5Aclose, where + ": cannot create it");
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (H5Awrite(attribute.get(), type.get(), padded.data()) < 0) fail(where, ": cannot write it");
}

void write_string_dataset(hid_t object, const std::string& name, const std::string& value,
                          const std::string& context) {
  std::string where = context + ": dataset '" + name + "'";
  Handle type = string_type_for(value, where);
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, where + ": H5Screate failed");
  Handle dataset = check(H5Dcreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                    H5P_DEFAULT, H5P_DEFAULT), H5Dclose, where + ": cannot create it");
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, padded.data()) < 0)
    fail(where, ": cannot write it");
}

namespace {

void write_string_array(hid_t object, const std::string& name,
                        const std::vector<std::string>& values, size_t width,
                        const std::string& where) {
  if (values.empty()) {
    // Keras writes an empty list as numpy's np.asarray([]): a float64 array of 0 elements.
    hsize_t zero = 0;
    Handle space = check(H5Screate_simple(1, &zero, nullptr), H5Sclose, where + ": H5Screate failed");
    Handle attribute = check(H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, space.get(),
                                        H5P_DEFAULT, H5P_DEFAULT), H5Aclose, where + ": cannot create it");
    double dummy = 0;
    if (H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, &dummy) < 0) fail(where, ": cannot write it");
    return;
  }
  Handle type = check(H5Tcopy(H5T_C_S1), H5Tclose, where + ": H5Tcopy failed");
  bool ascii = true;
  for (const std::string& v : values)
    for (char c : v) ascii &= (c & 0x80) == 0;
  if (H5Tset_size(type.get(), width) < 0 || H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type.get(), ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8) < 0)
    fail(where, ": cannot set up the string type");
  std::vector<char> buffer(values.size() * width, '\0');
  for (size_t i = 0; i < values.size(); ++i)
    std::memcpy(buffer.data() + i * width, values[i].data(), values[i].size());
  hsize_t count = values.size();
  Handle space = check(H5Screate_simple(1, &count, nullptr), H5Sclose, where + ": H5Screate failed");
  Handle attribute = check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                      H5P_DEFAULT), H5Aclose, where + ": cannot create it");
  if (H5Awrite(attribute.get(), type.get(), buffer.data()) < 0) fail(where, ": cannot write it");
}

}  // namespace

void write_string_list_attribute(hid_t object, const std::string& name,
                                 const std::vector<std::string>& values,
                                 const std::string& context) {
  std::string where = context + ": attribute '" + name + "'";
  size_t width = 1;
  for (const std::string& v : values) width = std::max(width, v.size());
  CATDOG_CHECK(width <= kAttributeLimit, where, ": a name of ", width, " bytes is too long");
  // As Keras does: when the array is too big for one attribute, split it into name0, name1, ...
  size_t chunks = 1;
  while ((values.size() + chunks - 1) / chunks * width > kAttributeLimit) ++chunks;
  if (chunks == 1) return write_string_array(object, name, values, width, where);
  size_t per_chunk = (values.size() + chunks - 1) / chunks;
  for (size_t c = 0; c < chunks; ++c) {
    size_t begin = c * per_chunk, end = std::min(values.size(), begin + per_chunk);
    std::vector<std::string> part(values.begin() + begin, values.begin() + end);
    write_string_array(object, name + std::to_string(c), part, width, where);
  }
}

Handle create_group(hid_t parent, const std::string& name, const std::string& context) {
  return check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
               context + ": cannot create group '" + name + "'");
}

void write_float_dataset(hid_t parent, const std::string& name, const Shape& shape,
                         const std::vector<float>& values, const std::string& context) {
  std::string where = context + ": dataset '" + name + "'";
  CATDOG_CHECK(static_cast<int64_t>(values.size()) == numel(shape), where, ": ", values.size(),
               " values for shape ", to_string(shape));
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space = dims.empty()
                     ? check(H5Screate(H5S_SCALAR), H5Sclose, where + ": H5Screate failed")
                     : check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                             H5Sclose, where + ": H5Screate_simple failed");
  Handle lcpl = check(H5Pcreate(H5P_LINK_CREATE), H5Pclose, where + ": H5Pcreate failed");
  H5Pset_create_intermediate_group(lcpl.get(), 1);  // "dense/kernel:0" creates group "dense"
  Handle dataset = check(H5Dcreate2(parent, name.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(),
                                    H5P_DEFAULT, H5P_DEFAULT), H5Dclose, where + ": cannot create it");
  float dummy = 0;
  const float* data = values.empty() ? &dummy : values.data();
  if (H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(where, ": cannot write it (disk full?)");
}

}  // namespace catdog::h5

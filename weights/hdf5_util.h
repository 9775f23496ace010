// Small, checked wrappers over the HDF5 C API, used only inside weights/ (the HDF5 headers are a
// private dependency of catdog_core).
//
// Why wrappers: every H5 call returns a negative value on failure and leaves an error stack that
// the library would otherwise print to stderr. We silence the printing (H5Eset_auto) and turn each
// failure into a catdog::Error that says which file and which object, and every identifier is
// closed by a destructor so an exception never leaks an open file.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace catdog::h5 {

// The serial HDF5 library is not thread-safe: every public entry point of weights/ that touches
// HDF5 holds this lock (and switches off the error printing) for its whole duration. Recursive,
// because save_keras_model and load_keras_model call the other entry points.
class Session {
 public:
  Session();
 private:
  std::lock_guard<std::recursive_mutex> lock_;
};

// An owned hid_t, closed with the right H5*close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  // Close now and report failure (H5Fclose of a written file is where data reaches the disk).
  herr_t close();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

Handle open_file_for_reading(const std::string& path);
// Create the temporary file `path` that will become `target` (named in errors). Fails when `path`
// exists (H5F_ACC_EXCL). Closing it (strong semantics) closes every object still open in it.
Handle create_file(const std::string& path, const std::string& target);

// Does `object` (file or group) have a link `name` (may be a relative path "a/b:0")? Checks each
// component in turn, because H5Lexists fails rather than answering "no" for "a/b" without "a".
bool has_link(hid_t object, const std::string& name);
bool has_attribute(hid_t object, const std::string& name);
bool is_group(hid_t object, const std::string& name);
Handle open_group(hid_t parent, const std::string& name, const std::string& context);
// Open `name` as a dataset, or an invalid Handle when it is absent or not a dataset.
Handle try_open_dataset(hid_t parent, const std::string& name);
// The names of the links in `group`, in name order (what h5py writes keeps no creation order).
// More than `max_count` is refused as a corrupt or hostile file, before any is kept.
std::vector<std::string> list_links(hid_t group, size_t max_count, const std::string& context);

// A string attribute (fixed-length or variable-length, scalar or one-element array), or ""
// when absent. Throws when present but not a string.
std::string read_string_attribute(hid_t object, const std::string& name,
                                  const std::string& context);
// The same for a scalar (or one-element) string dataset, which has no 64 KiB limit.
std::string read_string_dataset(hid_t object, const std::string& name, const std::string& context);
// A list-of-strings attribute, as Keras' load_attributes_from_hdf5_group reads it: `name`, or
// when too big for one object header, `name0`, `name1`, ... concatenated. An attribute with no
// elements (Keras writes an empty float64 array for "no weights") gives an empty list.
// `present` (when not null) says whether any such attribute exists.
std::vector<std::string> read_string_list_attribute(hid_t object, const std::string& name,
                                                    const std::string& context,
                                                    bool* present = nullptr);

// A floating-point dataset as float32 (float64 and float16 are converted by HDF5). Checks rank,
// dimensions and that the file really stores that many bytes before allocating. Integer data is
// an error unless `allow_integer` (an optimizer's iteration counter is an int64). A dataset that
// declares more than `max_elements` values is refused by its shape (the dataspace) before any of
// it is read or decompressed.
void read_float_dataset(hid_t dataset, const std::string& context, Shape& shape,
                        std::vector<float>& values, bool allow_integer = false,
                        uint64_t max_elements = UINT64_MAX);

// Writers. Strings are written as h5py writes numpy bytes: fixed-length, null-padded ASCII (UTF-8
// when not pure ASCII).
void write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                            const std::string& context);
void write_string_list_attribute(hid_t object, const std::string& name,
                                 const std::vector<std::string>& values, const std::string& context);
// A scalar string dataset, for text too long for an attribute.
void write_string_dataset(hid_t object, const std::string& name, const std::string& value,
                          const std::string& context);
Handle create_group(hid_t parent, const std::string& name, const std::string& context);
// Creates intermediate groups of a nested name ("dense/kernel:0" -> group "dense" first).
void write_float_dataset(hid_t parent, const std::string& name, const Shape& shape,
                         const std::vector<float>& values, const std::string& context);

}  // namespace catdog::h5

#!/usr/bin/env bash
# Fetch what the real transfer-learning job needs, where there is internet:
#   1. Keras' ImageNet VGG16 "notop" weights (58,889,256 bytes, md5 6d6bbae143d832006294945121d1f1fc)
#   2. Microsoft's Cats and Dogs photos (kagglecatsanddogs_5340.zip: PetImages/Cat, PetImages/Dog)
# then unzips the photos, splits them with `catdog prepare` (75/25, seed 1) into ASSETS/catsdogs,
# and prints the `catdog train` command to run next.
#
#   scripts/fetch-assets.sh [--assets DIR] [--catdog PATH] [--weights-only] [--no-prepare]
#   scripts/fetch-assets.sh --verify-only FILE MD5 [SIZE]      check one file, download nothing
#
# Safe to rerun: a verified file is not fetched again, an interrupted download resumes from its
# FILE.part, and nothing is ever left under a final name unless it passed verification.
#
# Microsoft publishes no checksum for the zip that we could find (TensorFlow Datasets pins one
# only for the older kagglecatsanddogs_3367a.zip). So the zip is checked for a plausible size and
# with `unzip -t` (every member's CRC), and its sha256 is recorded beside it on first download
# (ASSETS/kagglecatsanddogs_5340.zip.sha256); later runs compare against that record.
#
# Environment (for mirrors and for tests): CATDOG_VGG16_URL, CATDOG_VGG16_MD5, CATDOG_VGG16_SIZE,
# CATDOG_PETS_URL, CATDOG_PETS_MIN_SIZE, CATDOG_FETCH_RETRIES (default 5).
set -euo pipefail

VGG16_NAME=vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
VGG16_URL=${CATDOG_VGG16_URL:-https://storage.googleapis.com/tensorflow/keras-applications/vgg16/$VGG16_NAME}
VGG16_MD5=${CATDOG_VGG16_MD5:-6d6bbae143d832006294945121d1f1fc}
VGG16_SIZE=${CATDOG_VGG16_SIZE:-58889256}
PETS_NAME=kagglecatsanddogs_5340.zip
PETS_URL=${CATDOG_PETS_URL:-https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/$PETS_NAME}
# About 787 MB; anything under 700 MB is an error page or a cut-off download, not the archive.
PETS_MIN_SIZE=${CATDOG_PETS_MIN_SIZE:-700000000}
RETRIES=${CATDOG_FETCH_RETRIES:-5}

say() { echo "fetch-assets: $*"; }
die() { echo "fetch-assets: error: $*" >&2; exit 1; }

file_size() { stat -c %s "$1"; }
file_md5() { md5sum "$1" | cut -d' ' -f1; }
file_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# verify FILE MD5 [SIZE]: exit status 0 when the file has that size (when given) and md5;
# otherwise says what differs.
verify() {
  local file=$1 md5=$2 size=${3:-}
  [ -f "$file" ] || { echo "fetch-assets: $file: no such file" >&2; return 1; }
  if [ -n "$size" ]; then
    local actual_size
    actual_size=$(file_size "$file")
    if [ "$actual_size" != "$size" ]; then
      echo "fetch-assets: $file: size $actual_size bytes, expected $size" >&2
      return 1
    fi
  fi
  local actual
  actual=$(file_md5 "$file")
  if [ "$actual" != "$md5" ]; then
    echo "fetch-assets: $file: md5 $actual, expected $md5" >&2
    return 1
  fi
  return 0
}

# download URL DEST: fetch into DEST.part (resuming a previous DEST.part), with retries. DEST
# itself is not touched. Returns non-zero with a message when the transfer fails.
download() {
  local url=$1 dest=$2 part=$2.part
  say "downloading $url"
  say "  -> $part (resumes if interrupted; rerun the same command)"
  if command -v curl >/dev/null; then
    # -f: an HTTP error is a failure, not a saved error page; -C -: resume; -L: follow redirects.
    if ! curl -fL --retry "$RETRIES" --retry-delay 3 --retry-connrefused --connect-timeout 20 \
        -C - -o "$part" "$url"; then
      return 1
    fi
  elif command -v wget >/dev/null; then
    if ! wget -c --tries=$((RETRIES + 1)) --waitretry=3 --timeout=20 -O "$part" "$url"; then
      return 1
    fi
  else
    die "neither curl nor wget is installed (apt-get install curl)"
  fi
}

# A failed transfer: say which file, what to do, and leave only the .part behind.
transfer_failed() {
  local what=$1 url=$2 dest=$3
  echo "fetch-assets: error: could not download $what" >&2
  echo "  from: $url" >&2
  echo "  to:   $dest (nothing was written under that name)" >&2
  if [ -s "$dest.part" ]; then
    echo "  a partial download is kept in $dest.part ($(file_size "$dest.part") bytes); rerun" \
         "the same command to resume it, or delete it to start over" >&2
  else
    rm -f "$dest.part"
  fi
  echo "  check the internet connection (or a proxy: https_proxy=...), then rerun:" \
       "scripts/fetch-assets.sh${ASSETS_ARG}" >&2
  exit 1
}

# fetch WHAT URL DEST CHECK: make DEST a copy of URL that passes `CHECK FILE`. A DEST already there
# that passes is kept (FETCHED=0); one that fails is moved to DEST.bad and fetched again. The
# download goes to DEST.part and is renamed to DEST only once it passes (FETCHED=1).
fetch() {
  local what=$1 url=$2 dest=$3 check=$4
  FETCHED=0
  if [ -f "$dest" ] && "$check" "$dest" 2>/dev/null; then
    say "$dest: present, verified"
    return
  fi
  if [ -f "$dest" ]; then
    say "$dest exists but does not verify; moving it to $dest.bad and downloading again"
    mv -f "$dest" "$dest.bad"
  fi
  download "$url" "$dest" || transfer_failed "$what" "$url" "$dest"
  if ! "$check" "$dest.part"; then
    mv -f "$dest.part" "$dest.bad"
    echo "fetch-assets: error: $what from $url do not verify (above); the download was moved" \
         "to $dest.bad. Rerun to download again." >&2
    exit 1
  fi
  mv -f "$dest.part" "$dest"
  FETCHED=1
}

check_weights() { verify "$1" "$VGG16_MD5" "$VGG16_SIZE"; }

fetch_weights() {
  local dest=$ASSETS/$VGG16_NAME
  fetch "the VGG16 weights" "$VGG16_URL" "$dest" check_weights
  [ "$FETCHED" = 0 ] || say "$dest: downloaded, md5 $VGG16_MD5 verified"
}

# The zip has no published checksum: plausible size, every member's CRC (unzip -t), and the
# sha256 recorded on first download, compared on later runs.
check_pets_zip() {
  local file=$1 record=$ASSETS/$PETS_NAME.sha256
  local size
  size=$(file_size "$file")
  if [ "$size" -lt "$PETS_MIN_SIZE" ]; then
    echo "fetch-assets: $file: $size bytes, expected at least $PETS_MIN_SIZE (about 787 MB):" \
         "not the archive (an error page or a cut-off download?)" >&2
    return 1
  fi
  if ! unzip -tq "$file" >/dev/null 2>&1; then
    echo "fetch-assets: $file: unzip -t reports a damaged archive (a member's CRC fails)" >&2
    return 1
  fi
  local sha
  sha=$(file_sha256 "$file")
  if [ -f "$record" ]; then
    local recorded
    recorded=$(cut -d' ' -f1 "$record")
    if [ "$sha" != "$recorded" ]; then
      echo "fetch-assets: $file: sha256 $sha differs from the one recorded on first download" \
           "($recorded, in $record). If Microsoft changed the file, delete $record and rerun." >&2
      return 1
    fi
  fi
  echo "$sha" >"$record.tmp"
  return 0
}

fetch_pets() {
  local dest=$ASSETS/$PETS_NAME record=$ASSETS/$PETS_NAME.sha256
  fetch "the cats and dogs photos" "$PETS_URL" "$dest" check_pets_zip
  if [ "$FETCHED" = 0 ] || [ -f "$record" ]; then
    rm -f "$record.tmp"
    [ "$FETCHED" = 0 ] || say "$dest: downloaded; sha256 matches the record in $record"
  else
    mv -f "$record.tmp" "$record"
    say "$dest: downloaded and checked (size, unzip -t). Microsoft publishes no checksum: its"
    say "  sha256 $(cat "$record") is now recorded in $record (trust on first use)"
  fi
}

unzip_pets() {
  local out=$ASSETS/PetImages
  if [ -f "$out/.complete" ]; then
    say "$out: already unzipped"
    return
  fi
  local tmp=$ASSETS/.unzip-tmp
  rm -rf "$tmp" "$out"
  mkdir -p "$tmp"
  say "unzipping $ASSETS/$PETS_NAME (25,000 photos) ..."
  unzip -q "$ASSETS/$PETS_NAME" -d "$tmp" || die "unzip of $ASSETS/$PETS_NAME failed (disk full?)"
  [ -d "$tmp/PetImages/Cat" ] && [ -d "$tmp/PetImages/Dog" ] ||
    die "$ASSETS/$PETS_NAME has no PetImages/Cat and PetImages/Dog folders"
  mv "$tmp/PetImages" "$out"
  rm -rf "$tmp"
  touch "$out/.complete"
  say "$out: $(find "$out/Cat" -type f | wc -l) cat and $(find "$out/Dog" -type f | wc -l) dog files"
}

find_catdog() {
  if [ -n "$CATDOG" ]; then
    [ -x "$CATDOG" ] || die "--catdog $CATDOG is not an executable"
    echo "$CATDOG"
    return
  fi
  local candidate
  for candidate in "$ROOT/build/catdog" "$ROOT"/build-*/catdog; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return
    fi
  done
  command -v catdog || true
}

prepare_dataset() {
  local out=$ASSETS/catsdogs
  if [ -d "$out/train" ] && [ -d "$out/test" ]; then
    say "$out: already prepared"
    return
  fi
  local catdog
  catdog=$(find_catdog)
  if [ -z "$catdog" ]; then
    say "catdog is not built yet (scripts/setup.sh builds it); then run:"
    say "  build/catdog prepare --from $ASSETS/PetImages --to $out"
    return
  fi
  # PetImages/Cat and PetImages/Dog are class folders (not Kaggle's cat.N.jpg names); prepare
  # takes either. About 1,700 of the files are not readable images: the trainer names and skips
  # them.
  say "$catdog prepare --from $ASSETS/PetImages --to $out"
  "$catdog" prepare --from "$ASSETS/PetImages" --to "$out"
}

# ---- command line --------------------------------------------------------------------------

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ASSETS=$ROOT/assets
ASSETS_ARG=""
CATDOG=${CATDOG:-}
WEIGHTS_ONLY=0
PREPARE=1
while [ $# -gt 0 ]; do
  case $1 in
    --verify-only)
      [ $# -ge 3 ] || die "usage: scripts/fetch-assets.sh --verify-only FILE MD5 [SIZE]"
      if verify "$2" "$3" "${4:-}"; then
        say "$2: verified (md5 $3${4:+, $4 bytes})"
        exit 0
      fi
      exit 1
      ;;
    --assets) ASSETS=$2; ASSETS_ARG=" --assets $2"; shift 2 ;;
    --catdog) CATDOG=$2; shift 2 ;;
    --weights-only) WEIGHTS_ONLY=1; shift ;;
    --no-prepare) PREPARE=0; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see scripts/fetch-assets.sh --help)" ;;
  esac
done

mkdir -p "$ASSETS"
fetch_weights
if [ "$WEIGHTS_ONLY" = 1 ]; then
  exit 0
fi
fetch_pets
unzip_pets
[ "$PREPARE" = 1 ] && prepare_dataset

echo
say "done. Train the tutorial's model (frozen VGG16 + head, 10 epochs) with:"
echo "  build/catdog train --model vgg16 --weights $ASSETS/$VGG16_NAME \\"
echo "      --data $ASSETS/catsdogs --epochs 10 --device auto --out runs/vgg16"

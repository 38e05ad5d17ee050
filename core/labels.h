// Labels: containerd's key/value metadata on blobs, and how casfs stores them.
//
// On disk (containerd has no place for labels in the content store, so the
// names are casfs'): a blob's whole label set is one extended attribute of
// the blob file, `user.casfs.labels`, in the text encoding below. Keeping the
// set in one attribute makes every update atomic (one setxattr). When the
// backing filesystem refuses it (ext4 keeps about 4 KiB of attributes per
// inode; ENOSPC, E2BIG, ERANGE or ENOTSUP), the set moves to the overflow
// file `labels/<alg>/<hex>` of the store (same encoding, written atomically)
// and the attribute is removed. Readers take the attribute if present, else
// the overflow file, else no labels. Writers write the new place first and
// remove the old one after, so a crash leaves either set, never a mixture.
//
// Encoding ("casfs-labels 1"): a first line `casfs-labels 1`, then one line
// per label, `<key>=<value>`, sorted by key, where '%', '=', '\n' and NUL in
// keys and values are written %25, %3D, %0A and %00. Readable with
// `getfattr -n user.casfs.labels --only-values` on the backing file.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace casfs {

using Labels = std::map<std::string, std::string>;

// containerd's rule: len(key) + len(value) <= 4096 bytes.
inline constexpr size_t kMaxLabelSize = 4096;

// containerd's only rule (kInvalidArgument "label key and value greater
// than maximum size (4096 bytes), key: <first 10 bytes>"), plus casfs'
// own: the key must not be empty (kInvalidArgument) and must not start with
// "casfs." (kPermissionDenied: reserved for the mount's virtual attributes).
Status ValidateLabel(std::string_view key, std::string_view value);
// Every label of the set.
Status ValidateLabels(const Labels& labels);

std::string EncodeLabels(const Labels& labels);
// kInvalidArgument (naming `origin`) when the text is not an encoding.
Result<Labels> DecodeLabels(std::string_view text, std::string_view origin);

}  // namespace casfs

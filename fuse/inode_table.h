// Inode numbers of the mount, and the kernel's lookup counts.
//
// The fixed folders have small constant numbers. Every blob and ingest the
// kernel knows gets a node in this table, keyed by what it names (kind,
// algorithm, hex or ref), holding only the key and the lookup count: no
// descriptor is kept per inode (the fd limit is 20000; a folder may hold
// 100k blobs). Descriptors belong to open file handles only.
//
// A node's number is derived from its key (the leading 64 bits of a blob's
// hex, a 64-bit FNV-1a of an ingest's ref), so a name keeps its number when
// the kernel forgets it and looks it up again, and across remounts. Only on
// a collision with a live node does a key get the next free number; such
// keys are kept in a small side index.
//
// The kernel adds one to a node's count with every entry reply (lookup,
// create, readdirplus) and subtracts with forget; at zero the node goes, so
// millions of lookups leave nothing behind.
//
// Thread-safe. One mutex guards the whole table; it is a leaf lock (held
// only inside these methods, never while calling out).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/digest.h"

namespace casfs::fuse {

using Ino = uint64_t;

enum class NodeKind : uint8_t {
  kRoot,
  kBlobsDir,
  kIngestDir,
  kAlgorithmDir,  // blobs/<alg>
  kBlob,          // blobs/<alg>/<hex>
  kIngest,        // ingest/<encoded ref>
};

struct NodeKey {
  NodeKind kind = NodeKind::kRoot;
  Algorithm algorithm = Algorithm::kSha256;  // kAlgorithmDir, kBlob
  std::string name;                          // kBlob: the hex; kIngest: the ref (decoded)

  static NodeKey Blob(Algorithm algorithm, std::string hex) {
    return NodeKey{NodeKind::kBlob, algorithm, std::move(hex)};
  }
  static NodeKey Ingest(std::string ref) {
    return NodeKey{NodeKind::kIngest, Algorithm::kSha256, std::move(ref)};
  }
  friend bool operator==(const NodeKey&, const NodeKey&) = default;
  friend auto operator<=>(const NodeKey&, const NodeKey&) = default;
};

// Fixed numbers (FUSE_ROOT_ID is 1).
inline constexpr Ino kRootIno = 1;
inline constexpr Ino kBlobsIno = 2;
inline constexpr Ino kIngestIno = 3;
// blobs/sha256, blobs/sha384, blobs/sha512, in kAllAlgorithms order.
inline constexpr Ino kFirstAlgorithmIno = 4;
// Numbers below this are never given to blobs or ingests.
inline constexpr Ino kFirstDynamicIno = 16;

Ino AlgorithmDirIno(Algorithm algorithm);
// The key of a fixed folder's number; nullopt for other numbers.
std::optional<NodeKey> FixedNode(Ino ino);

class InodeTable {
 public:
  InodeTable() = default;
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // The number of `key` (a blob or an ingest), creating its node if
  // needed, with its lookup count raised by one. Pair every call whose
  // number reaches the kernel with the kernel's later forget; undo a call
  // whose reply failed with Forget(ino, 1).
  Ino Acquire(const NodeKey& key);

  // The number `key` has now, or would get: for readdir's d_ino, which
  // takes no reference.
  Ino Peek(const NodeKey& key) const;

  // The number of `key`'s live node, or 0 when it has none; takes no
  // reference.
  Ino Find(const NodeKey& key) const;

  // What a number names: the fixed folders, or a live node; nullopt for a
  // number the kernel should not know (already forgotten).
  std::optional<NodeKey> Resolve(Ino ino) const;

  // Lowers the count by `nlookup`; the node goes at zero. Unknown numbers
  // and fixed folders are ignored (the kernel never forgets the root).
  void Forget(Ino ino, uint64_t nlookup);

  // The node `ino` names `key` from now on (after a commit by rename, the
  // kernel's inode of the ingest is the blob's). Its count is kept. If
  // `key` has no node yet, this one becomes it; otherwise both name it.
  void Rebind(Ino ino, const NodeKey& key);

  // Live nodes (not counting the fixed folders).
  size_t size() const;

  // The number a key would get with no collision.
  static Ino DerivedIno(const NodeKey& key);

 private:
  struct Node {
    NodeKey key;
    uint64_t nlookup = 0;
  };
  // With mu_ held: the live node for `key`, or 0.
  Ino FindLocked(const NodeKey& key) const;
  // With mu_ held: a free number for `key`, starting at its derived one.
  Ino FreeInoLocked(const NodeKey& key) const;

  mutable std::mutex mu_;
  std::unordered_map<Ino, Node> nodes_;
  // Keys whose node is not at its derived number (a collision, or a node
  // rebound by a commit), and that number.
  std::map<NodeKey, Ino> displaced_;
};

}  // namespace casfs::fuse

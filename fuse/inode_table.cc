#include "fuse/inode_table.h"

#include <cstring>

namespace casfs::fuse {
namespace {

constexpr Ino kIngestBit = Ino{1} << 63;

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

uint64_t HexPrefix(std::string_view hex) {
  uint64_t value = 0;
  for (size_t i = 0; i < 16 && i < hex.size(); ++i) {
    char c = hex[i];
    unsigned digit = (c >= '0' && c <= '9') ? unsigned(c - '0') : unsigned(c - 'a' + 10) & 0xf;
    value = (value << 4) | digit;
  }
  return value;
}

Ino Normalize(Ino ino) { return ino < kFirstDynamicIno ? ino + kFirstDynamicIno : ino; }

}  // namespace

Ino AlgorithmDirIno(Algorithm algorithm) {
  return kFirstAlgorithmIno + static_cast<Ino>(algorithm);
}

std::optional<NodeKey> FixedNode(Ino ino) {
  switch (ino) {
    case kRootIno: return NodeKey{NodeKind::kRoot, Algorithm::kSha256, {}};
    case kBlobsIno: return NodeKey{NodeKind::kBlobsDir, Algorithm::kSha256, {}};
    case kIngestIno: return NodeKey{NodeKind::kIngestDir, Algorithm::kSha256, {}};
    default: break;
  }
  for (Algorithm algorithm : kAllAlgorithms) {
    if (ino == AlgorithmDirIno(algorithm)) return NodeKey{NodeKind::kAlgorithmDir, algorithm, {}};
  }
  return std::nullopt;
}

Ino InodeTable::DerivedIno(const NodeKey& key) {
  if (key.kind == NodeKind::kIngest) return Normalize(Fnv1a64(key.name) | kIngestBit);
  // A blob's hex is already uniformly random; the algorithm is mixed in so
  // that equal prefixes under two algorithms do not collide by design.
  uint64_t salt = static_cast<uint64_t>(key.algorithm) * 0x9e3779b97f4a7c15ull;
  return Normalize((HexPrefix(key.name) ^ salt) & ~kIngestBit);
}

Ino InodeTable::FindLocked(const NodeKey& key) const {
  Ino derived = DerivedIno(key);
  auto it = nodes_.find(derived);
  if (it != nodes_.end() && it->second.key == key) return derived;
  if (!displaced_.empty()) {
    auto d = displaced_.find(key);
    if (d != displaced_.end()) return d->second;
  }
  return 0;
}

Ino InodeTable::FreeInoLocked(const NodeKey& key) const {
  Ino ino = DerivedIno(key);
  while (nodes_.count(ino) != 0) ino = Normalize(ino + 1);
  return ino;
}

Ino InodeTable::Acquire(const NodeKey& key) {
  std::lock_guard lock(mu_);
  Ino ino = FindLocked(key);
  if (ino == 0) {
    ino = FreeInoLocked(key);
    nodes_.emplace(ino, Node{key, 0});
    if (ino != DerivedIno(key)) displaced_.emplace(key, ino);
  }
  ++nodes_.at(ino).nlookup;
  return ino;
}

Ino InodeTable::Peek(const NodeKey& key) const {
  std::lock_guard lock(mu_);
  Ino ino = FindLocked(key);
  return ino != 0 ? ino : FreeInoLocked(key);
}

Ino InodeTable::Find(const NodeKey& key) const {
  std::lock_guard lock(mu_);
  return FindLocked(key);
}

std::optional<NodeKey> InodeTable::Resolve(Ino ino) const {
  if (ino < kFirstDynamicIno) return FixedNode(ino);
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.key;
}

void InodeTable::Forget(Ino ino, uint64_t nlookup) {
  if (ino < kFirstDynamicIno) return;
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return;
  Node& node = it->second;
  if (node.nlookup > nlookup) {
    node.nlookup -= nlookup;
    return;
  }
  auto d = displaced_.find(node.key);
  if (d != displaced_.end() && d->second == ino) displaced_.erase(d);
  nodes_.erase(it);
}

void InodeTable::Rebind(Ino ino, const NodeKey& key) {
  if (ino < kFirstDynamicIno) return;
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return;
  Node& node = it->second;
  auto old = displaced_.find(node.key);
  if (old != displaced_.end() && old->second == ino) displaced_.erase(old);
  bool key_has_node = FindLocked(key) != 0;
  node.key = key;
  // The number is not the key's derived one; remember it unless the key
  // already has a node of its own (then lookups keep answering that one).
  if (!key_has_node && ino != DerivedIno(key)) displaced_.emplace(key, ino);
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return nodes_.size();
}

}  // namespace casfs::fuse

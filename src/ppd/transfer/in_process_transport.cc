#include "ppd/transfer/in_process_transport.h"

#include <cstring>

#include "ppd/transfer/transfer_util.h"

namespace ppd::transfer {

namespace asio = boost::asio;

Status InProcessRegistry::add(const std::string& name, BlockSource* source) {
  if (name.empty()) return invalid_argument("name: must not be empty");
  if (source == nullptr) return invalid_argument("source \"{}\": must not be null", name);
  std::lock_guard lock(mu_);
  if (!sources_.emplace(name, source).second) return invalid_argument("name: \"{}\" is already registered", name);
  return Status::Ok();
}

void InProcessRegistry::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  sources_.erase(name);
}

BlockSource* InProcessRegistry::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(name);
  return it == sources_.end() ? nullptr : it->second;
}

namespace {

Result<PullResult> copy_blocks(BlockSource& source, const PullRequest& request,
                               std::span<const std::span<uint8_t>> dest) {
  const std::string context = fmt::format("kv pull from {} handle {}", request.source, request.handle);
  Result<std::vector<std::span<const uint8_t>>> spans = source.resolve(request.handle, request.indices);
  if (!spans.ok()) return spans.status().with_context(context);
  struct EndSend {
    BlockSource& source;
    uint64_t handle;
    ~EndSend() { source.end_send(handle); }
  } end_send{source, request.handle};
  if (spans->size() != dest.size()) {
    return internal_error("{}: block source resolved {} blocks for {} indices", context, spans->size(), dest.size());
  }
  PullResult result;
  for (size_t i = 0; i < dest.size(); ++i) {
    const std::span<const uint8_t> block = (*spans)[i];
    if (block.size() != dest[i].size()) {
      return invalid_argument("{}: dest[{}]: {} bytes; the source's blocks are {} bytes", context, i, dest[i].size(),
                              block.size());
    }
    std::memcpy(dest[i].data(), block.data(), block.size());
    result.checksums.push_back(block_checksum(block));
    result.bytes += static_cast<int64_t>(block.size());
    add_progress(request, static_cast<int64_t>(block.size()));
  }
  return result;
}

}  // namespace

asio::awaitable<Result<PullResult>> InProcessKvTransport::pull(const PullRequest& request,
                                                               std::span<const std::span<uint8_t>> dest) {
  PPD_CO_RETURN_IF_ERROR(check_destinations(request, dest));
  BlockSource* source = registry_->find(request.source);
  if (source == nullptr) {
    co_return unavailable("kv pull from {} handle {}: no in-process source of that name", request.source,
                          request.handle);
  }
  co_return copy_blocks(*source, request, dest);
}

asio::awaitable<Status> InProcessKvTransport::release(const std::string& source, uint64_t handle) {
  BlockSource* s = registry_->find(source);
  if (s == nullptr) {
    co_return unavailable("kv release to {} handle {}: no in-process source of that name", source, handle);
  }
  s->release(handle);
  co_return Status::Ok();
}

}  // namespace ppd::transfer

#include "gateway/fix_file_store.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

namespace tranche::gateway {
namespace {

// One line of the header file, as QuickFIX writes it: "<seq>,<body offset>,<size> ".
struct HeaderEntry {
  int seq = 0;
  long offset = 0;
  unsigned long size = 0;
};

bool read_header_entry(std::FILE* file, HeaderEntry& entry) {
  return std::fscanf(file, "%d,%ld,%lu ", &entry.seq, &entry.offset, &entry.size) == 3;
}

std::FILE* open_or_create(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r+");
  if (file == nullptr) file = std::fopen(path.c_str(), "w+");
  if (file == nullptr) throw FIX::ConfigError("could not open the FIX store file " + path);
  return file;
}

}  // namespace

FixFileStore::FixFileStore(const std::string& directory, const FIX::SessionID& id) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) throw FIX::ConfigError("could not make the FIX store directory " + directory + ": " + ec.message());
  std::string name = id.getBeginString().getString() + "-" + id.getSenderCompID().getString() + "-" +
                     id.getTargetCompID().getString();
  if (!id.getSessionQualifier().empty()) name += "-" + id.getSessionQualifier();
  const std::string prefix = (std::filesystem::path(directory) / name).string() + ".";
  body_path_ = prefix + "body";
  header_path_ = prefix + "header";
  seqnums_path_ = prefix + "seqnums";
  session_path_ = prefix + "session";
  open(false);
}

FixFileStore::~FixFileStore() {
  close_files();
}

void FixFileStore::close_files() {
  for (std::FILE** file : {&body_, &header_, &seqnums_, &session_}) {
    if (*file != nullptr) std::fclose(*file);
    *file = nullptr;
  }
}

void FixFileStore::open(bool remove_files) {
  close_files();
  if (remove_files)
    for (const std::string* path : {&body_path_, &header_path_, &seqnums_path_, &session_path_})
      std::remove(path->c_str());
  const bool new_session = !std::filesystem::exists(session_path_);
  body_ = open_or_create(body_path_);
  header_ = open_or_create(header_path_);
  seqnums_ = open_or_create(seqnums_path_);
  session_ = open_or_create(session_path_);
  read_back();
  if (new_session) {
    created_ = FIX::UtcTimeStamp();
    write_creation_time();
  }
  write_seqnums();
}

void FixFileStore::read_back() {
  next_sender_ = 1;
  next_target_ = 1;
  index_.clear();
  entries_ = 0;
  last_seq_ = 0;
  rising_ = true;
  std::rewind(header_);
  HeaderEntry entry;
  for (long at = std::ftell(header_); read_header_entry(header_, entry); at = std::ftell(header_))
    note_header_entry(entry.seq, at);
  int sender = 0, target = 0;
  std::rewind(seqnums_);
  if (std::fscanf(seqnums_, "%d : %d", &sender, &target) == 2 && sender > 0 && target > 0) {
    next_sender_ = sender;
    next_target_ = target;
  }
  char time[32] = {};
  std::rewind(session_);
  if (std::fscanf(session_, "%31s", time) == 1) {
    try {
      created_ = FIX::UtcTimeStampConvertor::convert(time);
    } catch (const FIX::FieldConvertError&) {
      // A session file that says no time: the store counts as made now (QuickFIX would fail on it later).
      created_ = FIX::UtcTimeStamp();
    }
  }
}

void FixFileStore::note_header_entry(int seq, long header_offset) {
  if (seq <= last_seq_) {
    rising_ = false;
    index_.clear();
    index_.shrink_to_fit();
  }
  if (rising_ && entries_ % kIndexStride == 0) index_.push_back({seq, header_offset});
  last_seq_ = std::max(last_seq_, seq);
  ++entries_;
}

bool FixFileStore::set(int seq, const std::string& message) {
  if (std::fseek(body_, 0, SEEK_END) != 0 || std::fseek(header_, 0, SEEK_END) != 0)
    throw FIX::IOException("cannot seek to the end of " + body_path_);
  const long offset = std::ftell(body_);
  const long header_offset = std::ftell(header_);
  if (offset < 0 || header_offset < 0) throw FIX::IOException("cannot tell the end of " + body_path_);
  if (std::fprintf(header_, "%d,%ld,%lu ", seq, offset, static_cast<unsigned long>(message.size())) < 0)
    throw FIX::IOException("cannot write to " + header_path_);
  if (std::fwrite(message.data(), 1, message.size(), body_) != message.size())
    throw FIX::IOException("cannot write to " + body_path_);
  if (std::fflush(body_) != 0) throw FIX::IOException("cannot flush " + body_path_);
  if (std::fflush(header_) != 0) throw FIX::IOException("cannot flush " + header_path_);
  note_header_entry(seq, header_offset);
  return true;
}

void FixFileStore::get(int begin, int end, std::vector<std::string>& messages) const {
  messages.clear();
  if (begin > end) return;
  // The last index point before the range; the header is read from there (from its start when the numbers
  // have not risen line by line).
  long from = 0;
  if (rising_) {
    auto after = std::upper_bound(index_.begin(), index_.end(), begin,
                                  [](int seq, const IndexPoint& point) { return seq < point.seq; });
    if (after != index_.begin()) from = std::prev(after)->header_offset;
  }
  if (std::fseek(header_, from, SEEK_SET) != 0) throw FIX::IOException("cannot seek in " + header_path_);
  // Only the range's entries are held, and only while it is answered.
  std::map<int, HeaderEntry> found;
  HeaderEntry entry;
  while (read_header_entry(header_, entry)) {
    if (entry.seq > end && rising_) break;
    if (entry.seq >= begin && entry.seq <= end) found[entry.seq] = entry;
  }
  if (std::fseek(body_, 0, SEEK_END) != 0) throw FIX::IOException("cannot seek in " + body_path_);
  const long body_size = std::ftell(body_);
  for (const auto& [seq, at] : found) {
    // An entry that points outside the body (a damaged file) is left out, as a number never stored is: the
    // session gap-fills it rather than resending garbage or failing the resend.
    if (at.offset < 0 || at.offset > body_size || at.size > static_cast<unsigned long>(body_size - at.offset))
      continue;
    std::string message(at.size, '\0');
    if (std::fseek(body_, at.offset, SEEK_SET) != 0 ||
        std::fread(message.data(), 1, message.size(), body_) != message.size())
      throw FIX::IOException("cannot read message " + std::to_string(seq) + " from " + body_path_);
    messages.push_back(std::move(message));
  }
}

void FixFileStore::setNextSenderMsgSeqNum(int seq) {
  next_sender_ = seq;
  write_seqnums();
}

void FixFileStore::setNextTargetMsgSeqNum(int seq) {
  next_target_ = seq;
  write_seqnums();
}

void FixFileStore::incrNextSenderMsgSeqNum() {
  ++next_sender_;
  write_seqnums();
}

void FixFileStore::incrNextTargetMsgSeqNum() {
  ++next_target_;
  write_seqnums();
}

void FixFileStore::reset() {
  reopen(true);
}

void FixFileStore::refresh() {
  reopen(false);
}

// QuickFIX expects an IOException from a reset or refresh that fails, whatever failed.
void FixFileStore::reopen(bool remove_files) {
  try {
    open(remove_files);
  } catch (const std::exception& e) {
    throw FIX::IOException(e.what());
  }
}

void FixFileStore::write_seqnums() {
  std::rewind(seqnums_);
  if (std::fprintf(seqnums_, "%10.10d : %10.10d", next_sender_, next_target_) < 0 ||
      std::fflush(seqnums_) != 0)
    throw FIX::IOException("cannot write to " + seqnums_path_);
}

void FixFileStore::write_creation_time() {
  std::rewind(session_);
  const std::string time = FIX::UtcTimeStampConvertor::convert(created_);
  if (std::fprintf(session_, "%s", time.c_str()) < 0 || std::fflush(session_) != 0)
    throw FIX::IOException("cannot write to " + session_path_);
}

}  // namespace tranche::gateway

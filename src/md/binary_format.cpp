#include "md/binary_format.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <queue>

namespace tranche::md {

namespace {

std::size_t payload_size(const Event& event) {
  switch (event.kind) {
    case EventKind::BookSnapshot:
    case EventKind::BookDelta:
      return (event.bids.size() + event.asks.size()) * sizeof(Level);
    case EventKind::Quote:
      return 32;
    case EventKind::Trade:
      return 16;
    case EventKind::OrderAdd:
    case EventKind::OrderCancel:
    case EventKind::OrderModify:
    case EventKind::OrderFill:
      return 24;
    case EventKind::BookClear:
    case EventKind::Gap:
      return 0;
  }
  return 0;
}

void put_i64(char*& p, std::int64_t v) {
  std::memcpy(p, &v, 8);
  p += 8;
}

}  // namespace

BinaryWriter::~BinaryWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
}

Status BinaryWriter::open(const std::string& path, const std::vector<StreamInfo>& streams) {
  path_ = path;
  tmp_path_ = path + ".tmp";
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (file_ == nullptr) return make_error(path + ": cannot write: " + std::strerror(errno));
  std::vector<char> table;
  auto put_string = [&](const std::string& s) {
    const auto n = static_cast<std::uint16_t>(s.size());
    table.insert(table.end(), reinterpret_cast<const char*>(&n), reinterpret_cast<const char*>(&n) + 2);
    table.insert(table.end(), s.begin(), s.end());
  };
  for (const auto& s : streams) {
    put_string(s.venue);
    put_string(s.symbol);
  }
  while (table.size() % 8 != 0) table.push_back('\0');
  BinaryFileHeader header{};
  std::memcpy(header.magic, kBinaryMagic, 8);
  header.version = kBinaryVersion;
  header.stream_count = static_cast<std::uint32_t>(streams.size());
  header.records_offset = sizeof(BinaryFileHeader) + table.size();
  if (std::fwrite(&header, sizeof header, 1, file_) != 1 ||
      (!table.empty() && std::fwrite(table.data(), table.size(), 1, file_) != 1))
    return make_error(path + ": write failed");
  return {};
}

Status BinaryWriter::write(const Event& event) {
  const std::size_t size = sizeof(BinaryRecordHeader) + payload_size(event);
  record_.resize(size);
  BinaryRecordHeader h{};
  h.size = static_cast<std::uint32_t>(size);
  h.kind = static_cast<std::uint8_t>(event.kind);
  h.flags = event.flags;
  h.side = static_cast<std::uint8_t>(event.side);
  h.stream = event.stream;
  h.n_bids = static_cast<std::uint32_t>(event.bids.size());
  h.n_asks = static_cast<std::uint32_t>(event.asks.size());
  h.recv_ns = event.recv_ns;
  h.exch_ns = event.exch_ns;
  h.first_seq = event.first_seq;
  h.last_seq = event.last_seq;
  std::memcpy(record_.data(), &h, sizeof h);
  char* p = record_.data() + sizeof h;
  switch (event.kind) {
    case EventKind::BookSnapshot:
    case EventKind::BookDelta:
      if (!event.bids.empty()) std::memcpy(p, event.bids.data(), event.bids.size() * sizeof(Level));
      p += event.bids.size() * sizeof(Level);
      if (!event.asks.empty()) std::memcpy(p, event.asks.data(), event.asks.size() * sizeof(Level));
      break;
    case EventKind::Quote:
      put_i64(p, event.price.raw());
      put_i64(p, event.qty.raw());
      put_i64(p, event.price2.raw());
      put_i64(p, event.qty2.raw());
      break;
    case EventKind::Trade:
      put_i64(p, event.price.raw());
      put_i64(p, event.qty.raw());
      break;
    case EventKind::OrderAdd:
    case EventKind::OrderCancel:
    case EventKind::OrderModify:
    case EventKind::OrderFill:
      put_i64(p, event.price.raw());
      put_i64(p, event.qty.raw());
      put_i64(p, static_cast<std::int64_t>(event.order_id));
      break;
    case EventKind::BookClear:
    case EventKind::Gap:
      break;
  }
  if (std::fwrite(record_.data(), size, 1, file_) != 1) return make_error(path_ + ": write failed");
  ++event_count_;
  return {};
}

Status BinaryWriter::close() {
  if (file_ == nullptr) return make_error(path_ + ": not open");
  // Patch the event count, then make the file appear whole under its name.
  if (std::fseek(file_, offsetof(BinaryFileHeader, event_count), SEEK_SET) != 0 ||
      std::fwrite(&event_count_, sizeof event_count_, 1, file_) != 1 || std::fflush(file_) != 0) {
    return make_error(path_ + ": write failed");
  }
  std::fclose(file_);
  file_ = nullptr;
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0)
    return make_error(path_ + ": cannot rename from " + tmp_path_ + ": " + std::strerror(errno));
  return {};
}

bool is_binary_event_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[8] = {};
  const bool ok = std::fread(magic, 1, 8, f) == 8 && std::memcmp(magic, kBinaryMagic, 8) == 0;
  std::fclose(f);
  return ok;
}

namespace {

class BinaryReader final : public EventReader {
 public:
  explicit BinaryReader(std::vector<std::string> files) : files_(std::move(files)) {}
  ~BinaryReader() override { unmap(); }

  std::string format() const override { return "tranche-binary"; }

  bool next(Event& out) override {
    for (;;) {
      if (data_ == nullptr && !map_next()) return false;
      if (offset_ + sizeof(BinaryRecordHeader) > size_) {
        if (offset_ != size_) report_error(path_, record_index_, "truncated record at the end of the file");
        unmap();
        continue;
      }
      const char* base = data_ + offset_;
      const auto* h = reinterpret_cast<const BinaryRecordHeader*>(base);
      if (h->size < sizeof(BinaryRecordHeader) || h->size % 8 != 0 || offset_ + h->size > size_) {
        report_error(
            path_, record_index_,
            "corrupt record size " + std::to_string(h->size) + " at byte " + std::to_string(offset_));
        unmap();  // without a trustworthy size the rest cannot be framed
        continue;
      }
      offset_ += h->size;
      ++record_index_;
      ++lines_read_;
      if (decode(*h, base + sizeof(BinaryRecordHeader), out)) return true;
    }
  }

 private:
  bool decode(const BinaryRecordHeader& h, const char* payload, Event& out) {
    const std::size_t payload_bytes = h.size - sizeof(BinaryRecordHeader);
    if (h.stream >= file_streams_) {
      report_error(
          path_, record_index_,
          "record names stream " + std::to_string(h.stream) + " of " + std::to_string(file_streams_));
      return false;
    }
    out = Event{};
    out.kind = static_cast<EventKind>(h.kind);
    out.flags = h.flags;
    out.side = h.side == 0 ? Side::Buy : Side::Sell;
    out.stream = static_cast<std::uint16_t>(stream_base_ + h.stream);
    out.recv_ns = h.recv_ns;
    out.exch_ns = h.exch_ns;
    out.first_seq = h.first_seq;
    out.last_seq = h.last_seq;
    auto get = [&](std::size_t index) {
      std::int64_t v;
      std::memcpy(&v, payload + index * 8, 8);
      return v;
    };
    switch (out.kind) {
      case EventKind::BookSnapshot:
      case EventKind::BookDelta: {
        const std::uint64_t levels = std::uint64_t{h.n_bids} + h.n_asks;
        if (levels * sizeof(Level) != payload_bytes) break;
        const auto* first = reinterpret_cast<const Level*>(payload);
        out.bids = {first, h.n_bids};
        out.asks = {first + h.n_bids, h.n_asks};
        // What the text decoders refuse is refused here too: a written file may have been damaged since.
        // One pass with no branch per level (the compiler vectorises it); the level is named only then.
        bool damaged = false;
        for (std::uint64_t i = 0; i < levels; ++i)
          damaged |= (first[i].price.raw() <= 0) | (first[i].qty.raw() < 0);
        if (damaged) [[unlikely]]
          for (const auto& side : {out.bids, out.asks})
            for (const Level& level : side)
              if (!level.price.is_positive() || level.qty < Qty{}) {
                report_error(path_, record_index_,
                             "a level at price " + level.price.to_string() + " of quantity " +
                                 level.qty.to_string() +
                                 ": prices must be positive, quantities not negative");
                return false;
              }
        return true;
      }
      case EventKind::Quote:
        if (payload_bytes != 32) break;
        out.price = Price::from_raw(get(0));
        out.qty = Qty::from_raw(get(1));
        out.price2 = Price::from_raw(get(2));
        out.qty2 = Qty::from_raw(get(3));
        return true;
      case EventKind::Trade:
        if (payload_bytes != 16) break;
        out.price = Price::from_raw(get(0));
        out.qty = Qty::from_raw(get(1));
        if (!out.price.is_positive() || !out.qty.is_positive()) {
          report_error(path_, record_index_,
                       "a trade of " + out.qty.to_string() + " at " + out.price.to_string() +
                           ": price and quantity must be positive");
          return false;
        }
        return true;
      case EventKind::OrderAdd:
      case EventKind::OrderCancel:
      case EventKind::OrderModify:
      case EventKind::OrderFill:
        if (payload_bytes != 24) break;
        out.price = Price::from_raw(get(0));
        out.qty = Qty::from_raw(get(1));
        out.order_id = static_cast<std::uint64_t>(get(2));
        return true;
      case EventKind::BookClear:
      case EventKind::Gap:
        return true;
      default:
        ++skipped_["unknown record kind " + std::to_string(h.kind)];
        return false;
    }
    report_error(path_, record_index_,
                 std::string("payload size does not fit a ") + to_string(out.kind) + " record");
    return false;
  }

  bool map_next() {
    while (file_index_ < files_.size()) {
      path_ = files_[file_index_++];
      record_index_ = 0;
      const int fd = ::open(path_.c_str(), O_RDONLY);
      if (fd < 0) {
        report_error(path_, 0, std::string("cannot open: ") + std::strerror(errno));
        continue;
      }
      struct stat st {};
      if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(BinaryFileHeader))) {
        ::close(fd);
        report_error(path_, 0, "too short for a Tranche binary event file");
        continue;
      }
      void* mapped = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (mapped == MAP_FAILED) {
        report_error(path_, 0, std::string("cannot map: ") + std::strerror(errno));
        continue;
      }
      data_ = static_cast<const char*>(mapped);
      size_ = static_cast<std::size_t>(st.st_size);
      ::madvise(mapped, size_, MADV_SEQUENTIAL | MADV_WILLNEED);
      BinaryFileHeader header;
      std::memcpy(&header, data_, sizeof header);
      if (std::memcmp(header.magic, kBinaryMagic, 8) != 0) {
        report_error(path_, 0, "not a Tranche binary event file (bad magic)");
        unmap();
        continue;
      }
      if (header.version == 0 || header.version > kBinaryVersion) {
        report_error(path_, 0,
                     "binary format version " + std::to_string(header.version) +
                         " is newer than this build reads (" + std::to_string(kBinaryVersion) + ")");
        unmap();
        continue;
      }
      if (header.records_offset > size_ || header.records_offset % 8 != 0) {
        report_error(path_, 0, "corrupt header: records offset " + std::to_string(header.records_offset));
        unmap();
        continue;
      }
      // Streams of each file are appended to the reader's table; records are renumbered into it.
      stream_base_ = static_cast<std::uint32_t>(streams_.size());
      std::size_t p = sizeof(BinaryFileHeader);
      bool ok = true;
      auto get_string = [&](std::string& s) {
        std::uint16_t n;
        if (p + 2 > header.records_offset) return false;
        std::memcpy(&n, data_ + p, 2);
        p += 2;
        if (p + n > header.records_offset) return false;
        s.assign(data_ + p, n);
        p += n;
        return true;
      };
      for (std::uint32_t i = 0; i < header.stream_count && ok; ++i) {
        StreamInfo info;
        ok = get_string(info.venue) && get_string(info.symbol);
        if (ok) add_stream(std::move(info));
      }
      if (!ok) {
        report_error(path_, 0, "corrupt stream table");
        unmap();
        continue;
      }
      file_streams_ = header.stream_count;
      offset_ = header.records_offset;
      return true;
    }
    return false;
  }

  void unmap() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    data_ = nullptr;
    size_ = offset_ = 0;
  }

  std::vector<std::string> files_;
  std::size_t file_index_ = 0;
  std::string path_;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t offset_ = 0;
  std::uint64_t record_index_ = 0;
  std::uint32_t stream_base_ = 0;
  std::uint32_t file_streams_ = 0;
};

}  // namespace

std::unique_ptr<EventReader> make_binary_reader(const std::vector<std::string>& files) {
  return std::make_unique<BinaryReader>(files);
}

Result<std::uint64_t> convert_to_binary(EventReader& reader, const std::string& out_path) {
  std::vector<std::vector<OwnedEvent>> per_stream;
  Event event;
  while (reader.next(event)) {
    if (per_stream.size() <= event.stream) per_stream.resize(event.stream + 1u);
    per_stream[event.stream].emplace_back(event);
  }
  BinaryWriter writer;
  if (Status s = writer.open(out_path, reader.streams()); !s.ok()) return make_error(s.message());
  // k-way merge by receive time; each stream keeps its own order even if its clock ever stepped back.
  using Head = std::pair<TimestampNs, std::size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<std::size_t> position(per_stream.size(), 0);
  for (std::size_t s = 0; s < per_stream.size(); ++s)
    if (!per_stream[s].empty()) heads.push({per_stream[s][0].event.recv_ns, s});
  while (!heads.empty()) {
    const std::size_t s = heads.top().second;
    heads.pop();
    if (Status st = writer.write(per_stream[s][position[s]].event); !st.ok()) return make_error(st.message());
    if (++position[s] < per_stream[s].size()) heads.push({per_stream[s][position[s]].event.recv_ns, s});
  }
  if (Status s = writer.close(); !s.ok()) return make_error(s.message());
  return writer.event_count();
}

}  // namespace tranche::md

#pragma once
// Tranche's compact binary event format (`.trmd`): the normalized events written once, read back many times
// faster than re-parsing JSON. Little-endian, fixed-size record headers in place, 8-byte aligned so a reader
// maps the file and hands out level arrays without copying.
//
//   file   := FileHeader, stream table, records...
//   FileHeader (32 bytes): magic "TRNCHMD\0", u32 version, u32 stream_count, u64 event_count, u64
//   records_offset stream := u16 venue length, venue bytes, u16 symbol length, symbol bytes (the table is
//   padded to 8 bytes) record := RecordHeader (56 bytes) + payload, its total size a multiple of 8:
//     BookSnapshot/BookDelta: (n_bids + n_asks) x {i64 price, i64 qty}, bids first
//     Quote: i64 bid price, i64 bid qty, i64 ask price, i64 ask qty
//     Trade: i64 price, i64 qty
//     OrderAdd/Cancel/Modify/Fill: i64 price, i64 qty, u64 order id
//     BookClear, Gap: nothing
// Version 1 is the first. A reader accepts every version up to its own and skips record kinds it does not
// know (the size says how far), so newer writers can add kinds without breaking older replays.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "md/reader.hpp"

namespace tranche::md {

inline constexpr char kBinaryMagic[8] = {'T', 'R', 'N', 'C', 'H', 'M', 'D', '\0'};
inline constexpr std::uint32_t kBinaryVersion = 1;

struct BinaryFileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t stream_count;
  std::uint64_t event_count;
  std::uint64_t records_offset;
};
static_assert(sizeof(BinaryFileHeader) == 32);

struct BinaryRecordHeader {
  std::uint32_t size;  // whole record, header included
  std::uint8_t kind;
  std::uint8_t flags;
  std::uint8_t side;
  std::uint8_t reserved0;
  std::uint16_t stream;
  std::uint16_t reserved1;
  std::uint32_t n_bids;
  std::uint32_t n_asks;
  std::uint32_t reserved2;
  std::int64_t recv_ns;
  std::int64_t exch_ns;
  std::uint64_t first_seq;
  std::uint64_t last_seq;
};
static_assert(sizeof(BinaryRecordHeader) == 56);

// Writes to `path`.tmp and renames on close, so a failed conversion leaves nothing half-written.
class BinaryWriter {
 public:
  ~BinaryWriter();
  Status open(const std::string& path, const std::vector<StreamInfo>& streams);
  Status write(const Event& event);
  Status close();
  std::uint64_t event_count() const { return event_count_; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string tmp_path_;
  std::uint64_t event_count_ = 0;
  std::vector<char> record_;
};

// True when the file starts with the binary format's magic.
bool is_binary_event_file(const std::string& path);
std::unique_ptr<EventReader> make_binary_reader(const std::vector<std::string>& files);

// Reads every event of `reader`, keeps each stream's own order and merges the streams by receive time (ties
// by stream), then writes them. Returns the number of events written.
Result<std::uint64_t> convert_to_binary(EventReader& reader, const std::string& out_path);

}  // namespace tranche::md

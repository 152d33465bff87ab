#include "oms/journal.hpp"

#include <chrono>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <utility>

namespace tranche::oms {

namespace {

constexpr std::string_view kFormat = "tranche-journal";
constexpr int kFormatVersion = 1;  // the file layout (tables and columns); record layouts are versioned apart
constexpr int kBusyTimeoutMs = 1000;

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
}

// The writer's lock: an flock on "<journal>-lock" holding the writer's pid. The kernel drops it when the
// process ends however it ends, so a crash never leaves a stale lock behind. Returns the open descriptor, or
// an error naming the holder.
Result<int> lock_for_writing(const std::string& path) {
  const std::string lock_path = path + "-lock";
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return make_error("journal " + path + ": cannot open its lock " + lock_path + ": " +
                        std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int why = errno;
      char holder[32] = {};
      const ssize_t got = ::pread(fd, holder, sizeof holder - 1, 0);
      ::close(fd);
      if (why != EWOULDBLOCK)
        return make_error("journal " + path + ": cannot lock " + lock_path + ": " + std::strerror(why));
      std::string pid(holder, got > 0 ? static_cast<std::size_t>(got) : 0);
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      return make_error("journal " + path + " is in use: process " + (pid.empty() ? "?" : pid) +
                        " writes it (its lock is " + lock_path +
                        "); one process writes a journal, so stop that one first");
    }
    // The holder before us may have removed the file between our open and our lock: then the lock we took is
    // on a file nobody else will see, and we go again.
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) != 0 || ::stat(lock_path.c_str(), &named) != 0 || held.st_ino != named.st_ino ||
        held.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      const int why = errno;
      ::close(fd);
      return make_error("journal " + path + ": cannot write its lock " + lock_path + ": " +
                        std::strerror(why));
    }
    return fd;
  }
  return make_error("journal " + path + ": its lock " + lock_path + " keeps being replaced");
}

// SQLite's write-ahead log (https://www.sqlite.org/fileformat2.html#walformat) as it lies on disk. SQLite
// replays its frames up to the first one whose salt or checksum fails and silently drops the rest: right
// for a frame torn by a crash mid-write, which was never committed, but a damaged frame in the middle would
// take every commit after it along. Those later frames still chain on from the damaged frame's stored
// checksum, so they tell the two apart: a commit that validates past the break means committed records
// would be lost, and the journal is refused instead of opened without them.
Status check_write_ahead_log(const std::string& path) {
  const std::string wal_path = path + "-wal";
  const int fd = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};  // no log: everything is in the database file
  std::vector<std::uint8_t> wal;
  std::uint8_t chunk[1 << 16];
  for (ssize_t got; (got = ::read(fd, chunk, sizeof chunk)) > 0;) wal.insert(wal.end(), chunk, chunk + got);
  ::close(fd);
  constexpr std::size_t kHeader = 32, kFrameHeader = 24;
  if (wal.size() < kHeader) return {};  // an empty or new log
  const auto be32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(wal[at]) << 24 | static_cast<std::uint32_t>(wal[at + 1]) << 16 |
           static_cast<std::uint32_t>(wal[at + 2]) << 8 | static_cast<std::uint32_t>(wal[at + 3]);
  };
  const auto damaged = [&](const std::string& what) {
    return make_error("journal " + path + ": its write-ahead log " + wal_path + " is damaged (" + what +
                      "): SQLite would drop the committed records after the damage without a word, so the "
                      "journal is not opened; keep a copy of both files");
  };
  const std::uint32_t magic = be32(0);
  const std::uint32_t page_size = be32(8);
  const bool valid_page_size = page_size >= 512 && page_size <= 65536 && (page_size & (page_size - 1)) == 0;
  if ((magic != 0x377f0682 && magic != 0x377f0683) || !valid_page_size) {
    // A log with frames in it but no readable header is ignored whole by SQLite.
    return wal.size() > kHeader ? damaged("its header is unreadable") : Status{};
  }
  const bool big_endian_sums = magic & 1;
  const auto word = [&](std::size_t at) {
    if (big_endian_sums) return be32(at);
    return static_cast<std::uint32_t>(wal[at]) | static_cast<std::uint32_t>(wal[at + 1]) << 8 |
           static_cast<std::uint32_t>(wal[at + 2]) << 16 | static_cast<std::uint32_t>(wal[at + 3]) << 24;
  };
  const auto checksum = [&](std::size_t at, std::size_t size, std::uint32_t& s0, std::uint32_t& s1) {
    for (std::size_t i = at; i + 8 <= at + size; i += 8) {
      s0 += word(i) + s1;
      s1 += word(i + 4) + s0;
    }
  };
  const std::uint32_t salt1 = be32(16), salt2 = be32(20);
  std::uint32_t s0 = 0, s1 = 0;
  checksum(0, 24, s0, s1);
  const bool header_ok = s0 == be32(24) && s1 == be32(28);
  // Every frame, with the chain seeded from the stored checksums before it (what an intact log carries).
  const std::size_t frame_size = kFrameHeader + page_size;
  const std::size_t frames = (wal.size() - kHeader) / frame_size;
  std::uint32_t seed0 = be32(24), seed1 = be32(28);
  std::size_t first_bad = frames;
  bool commit_after_bad = false;
  for (std::size_t f = 0; f < frames; ++f) {
    const std::size_t at = kHeader + f * frame_size;
    std::uint32_t c0 = seed0, c1 = seed1;
    checksum(at, 8, c0, c1);
    checksum(at + kFrameHeader, page_size, c0, c1);
    const bool ours = be32(at + 8) == salt1 && be32(at + 12) == salt2;
    const bool valid = ours && c0 == be32(at + 16) && c1 == be32(at + 20);
    if (!ours) break;  // a frame of an earlier generation of the log: the end of this one
    if (!valid && first_bad == frames) first_bad = f;
    if (valid && first_bad < f && be32(at + 4) != 0) commit_after_bad = true;
    seed0 = be32(at + 16);
    seed1 = be32(at + 20);
  }
  if (!header_ok && frames > 0 && first_bad > 0)
    return damaged("its header's checksum fails, so SQLite would ignore all of it");
  if (commit_after_bad)
    return damaged("frame " + std::to_string(first_bad + 1) + " of " + std::to_string(frames) +
                   " fails its checksum and commits follow it");
  return {};
}

}  // namespace

void Journal::StmtDeleter::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

// What the owner and the writer thread share. The owner hands whole batches (its staged records and their
// bytes, swapped out, no copy) and takes back spare ones, so steady running allocates nothing.
struct Journal::Writer {
  struct Batch {
    std::vector<Staged> records;
    std::vector<std::uint8_t> bytes;
  };
  std::thread thread;
  std::mutex mutex;
  std::condition_variable work;     // a batch was handed, or the thread is to stop
  std::condition_variable written;  // the thread wrote what it took, or failed
  std::vector<Batch> queued;        // handed, not yet taken
  std::vector<Batch> spare;         // written and emptied, for the owner to stage into again
  bool busy = false;                // writing what it took
  bool stop = false;
  Status error;  // the failure that stopped the thread
  std::atomic<bool> failed = false;
  std::function<void()> on_durable;
};

Journal::Journal(std::string path, sqlite3* db, bool read_only)
    : path_(std::move(path)), db_(db), read_only_(read_only) {}

Journal::~Journal() {
  if (writer_ != nullptr) {
    // What was handed to the thread is written before it stops (a clean stop loses nothing committed);
    // what was only appended is dropped, as ever.
    {
      std::lock_guard lock(writer_->mutex);
      writer_->stop = true;
    }
    writer_->work.notify_one();
    writer_->thread.join();
  }
  sqlite3_close_v2(read_db_);  // accepts null
  if (in_transaction_) {
    // Not durable, so not kept: the same outcome as a crash before the commit.
    (void)exec("ROLLBACK", "roll back");
  }
  insert_.reset();
  sqlite3_close_v2(db_);  // accepts null
  if (!scratch_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(scratch_dir_, ignored);
  }
  if (lock_fd_ >= 0) {
    // Removed while still held: whoever opens it next makes a new one (and checks it got that one).
    ::unlink((path_ + "-lock").c_str());
    ::close(lock_fd_);
  }
}

Result<std::unique_ptr<Journal>> Journal::open(const std::string& path, JournalOptions options) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (!exists && (!options.create || options.read_only)) {
    return make_error("journal " + path + ": no such file" +
                      (options.read_only ? " (opened read-only, so not created)" : " (create is off)"));
  }
  if (Status wal = check_write_ahead_log(path); !wal.ok()) return make_error(wal.message());
  // One writer per journal: a second would fork its history (two records with one seq). Readers take no lock.
  int lock_fd = -1;
  if (!options.read_only) {
    auto locked = lock_for_writing(path);
    if (!locked) return locked.error();
    lock_fd = *locked;
  }
  int flags = SQLITE_OPEN_NOMUTEX;  // one thread owns a Journal
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0);
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // The Journal owns the handle from here, even on failure (SQLite hands one back to read the error from).
  std::unique_ptr<Journal> journal(new Journal(path, db, options.read_only));
  journal->lock_fd_ = lock_fd;
  if (rc != SQLITE_OK) return journal->sqlite_error("cannot open");
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (Status status = journal->init(options.create && !options.read_only); !status.ok()) {
    const int code = sqlite3_extended_errcode(db) & 0xff;
    if (options.read_only && (code == SQLITE_READONLY || code == SQLITE_CANTOPEN)) {
      // A read-only copy (a file or a folder we may not write): SQLite cannot make the shared-memory file
      // a write-ahead journal is read through. It is read from a private copy instead, log and all.
      journal.reset();
      return open_private_copy(path);
    }
    return make_error(status.message());
  }
  return journal;
}

Result<std::unique_ptr<Journal>> Journal::open_private_copy(const std::string& path) {
  std::string dir_template = (std::filesystem::temp_directory_path() / "tranche-journal-XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr)
    return make_error("journal " + path +
                      ": read-only here, and no private copy could be made: " + std::strerror(errno));
  const std::filesystem::path dir = dir_template;
  const std::string copy = (dir / "journal").string();
  std::error_code ec;
  std::filesystem::copy_file(path, copy, ec);
  if (!ec && std::filesystem::exists(path + "-wal"))
    std::filesystem::copy_file(path + "-wal", copy + "-wal", ec);
  sqlite3* db = nullptr;
  const int rc = ec ? SQLITE_CANTOPEN
                    : sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<Journal> journal(new Journal(path, db, true));
  journal->scratch_dir_ = dir.string();
  if (ec) return make_error("journal " + path + ": read-only here, and copying it failed: " + ec.message());
  if (rc != SQLITE_OK) return journal->sqlite_error("cannot open a copy of");
  sqlite3_extended_result_codes(db, 1);
  if (Status status = journal->init(false); !status.ok()) return make_error(status.message());
  return journal;
}

Status Journal::init(bool create) {
  if (Status status = check_format(create); !status.ok()) return status;
  if (!read_only_) {
    // Persistent in the file; set again on every open in case a tool switched it back.
    auto mode = prepare("PRAGMA journal_mode=WAL", "set journal_mode=WAL");
    if (!mode) return mode.error();
    if (sqlite3_step(mode->get()) != SQLITE_ROW) return sqlite_error("set journal_mode=WAL");
    if (column_text(mode->get(), 0) != "wal") {
      return make_error("journal " + path_ + ": cannot use write-ahead logging (journal_mode is " +
                        column_text(mode->get(), 0) + ")");
    }
  }
  // Durable on commit: with WAL, FULL fsyncs the log at every COMMIT.
  if (Status status = exec("PRAGMA synchronous=FULL", "set synchronous=FULL"); !status.ok()) return status;

  auto last = prepare("SELECT coalesce(max(seq), 0) FROM journal", "read the last seq");
  if (!last) return last.error();
  if (sqlite3_step(last->get()) != SQLITE_ROW) return sqlite_error("read the last seq");
  const std::int64_t max_seq = sqlite3_column_int64(last->get(), 0);
  if (max_seq < 0) return make_error("journal " + path_ + ": negative seq " + std::to_string(max_seq));
  durable_seq_ = last_seq_ = static_cast<std::uint64_t>(max_seq);

  if (!read_only_) {
    auto insert = prepare("INSERT INTO journal(seq, type, version, ts_ns, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                          "prepare the insert");
    if (!insert) return insert.error();
    insert_ = std::move(insert).value();
  }
  return {};
}

Status Journal::check_format(bool create) {
  const auto list_tables = [this]() -> Result<std::vector<std::string>> {
    auto stmt =
        prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", "read the schema");
    if (!stmt) return stmt.error();
    std::vector<std::string> names;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) names.push_back(column_text(stmt->get(), 0));
    if (rc != SQLITE_DONE) return sqlite_error("read the schema");
    return names;
  };
  const auto not_a_journal = [this](const std::string& why) {
    return make_error("journal " + path_ + ": not a Tranche journal (" + why + ")");
  };

  auto tables = list_tables();
  if (!tables) {
    // SQLITE_NOTADB: some other kind of file.
    if (sqlite3_errcode(db_) == SQLITE_NOTADB) return not_a_journal("not a SQLite database");
    return tables.error();
  }
  if (tables->empty()) {
    if (!create) return not_a_journal("an empty database");
    // A new file: WAL first (the mode is kept in the file header), then the schema, in one transaction.
    if (Status status = exec("PRAGMA journal_mode=WAL", "set journal_mode=WAL"); !status.ok()) return status;
    const std::string schema =
        "BEGIN IMMEDIATE;"
        "CREATE TABLE IF NOT EXISTS journal(seq INTEGER PRIMARY KEY, type INTEGER NOT NULL, "
        "version INTEGER NOT NULL, ts_ns INTEGER NOT NULL, body BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT OR IGNORE INTO meta(key, value) VALUES ('format', '" +
        std::string(kFormat) + "'), ('format_version', '" + std::to_string(kFormatVersion) +
        "');"
        "COMMIT;";
    if (Status status = exec(schema.c_str(), "create the journal"); !status.ok()) {
      (void)exec("ROLLBACK", "roll back");
      return status;
    }
    tables = list_tables();
    if (!tables) return tables.error();
  }
  const auto has = [&](std::string_view name) {
    return std::find(tables->begin(), tables->end(), name) != tables->end();
  };
  if (!has("meta"))
    return not_a_journal("a SQLite database without a meta table; its tables: " + join(*tables));

  auto meta = prepare("SELECT key, value FROM meta WHERE key IN ('format', 'format_version')", "read meta");
  if (!meta) return meta.error();
  std::string format;
  std::string version;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(meta->get())) == SQLITE_ROW) {
    (column_text(meta->get(), 0) == "format" ? format : version) = column_text(meta->get(), 1);
  }
  if (rc != SQLITE_DONE) return sqlite_error("read meta");
  if (format != kFormat) {
    return not_a_journal(format.empty() ? "no format in its meta table" : "its format is '" + format + "'");
  }
  int format_version = 0;
  const auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), format_version);
  if (ec != std::errc() || end != version.data() + version.size() || format_version < 1) {
    return make_error("journal " + path_ + ": unreadable format_version '" + version + "'");
  }
  if (format_version > kFormatVersion) {
    return make_error("journal " + path_ + ": format_version " + version +
                      " is newer than this build reads (" + std::to_string(kFormatVersion) +
                      "); open it with a newer Tranche");
  }
  if (!has("journal")) return make_error("journal " + path_ + ": damaged: its journal table is missing");
  return {};
}

Result<std::uint64_t> Journal::append(TimestampNs ts_ns, const RecordBody& body) {
  if (read_only_) return make_error("journal " + path_ + ": opened read-only, cannot append");
  // Encoded now; the transaction is opened and written at commit: an uncommitted record is lost in a crash
  // either way, and the hot path pays for an encoding, not for an SQLite statement (nor a BEGIN, whose file
  // locks cost microseconds) per record. A second writer is already refused at open, by the lock file.
  const std::uint64_t seq = last_seq_ + 1;
  const std::size_t offset = staged_bytes_.size();
  encode_body(body, staged_bytes_);  // appended in place: no copy of the body, no scratch buffer
  staged_.push_back({seq, static_cast<int>(record_type(body)), ts_ns, offset, staged_bytes_.size() - offset});
  last_seq_ = seq;
  if (listener_) listener_(seq, ts_ns, body);
  return seq;
}

Status Journal::write_staged() {
  return insert_records(staged_, staged_bytes_, staged_written_);
}

Status Journal::insert_records(const std::vector<Staged>& records, const std::vector<std::uint8_t>& bytes,
                               std::size_t& next) {
  sqlite3_stmt* stmt = insert_.get();
  for (; next < records.size(); ++next) {
    const Staged& r = records[next];
    sqlite3_bind_int64(stmt, 1, static_cast<sqlite3_int64>(r.seq));
    sqlite3_bind_int(stmt, 2, r.type);
    sqlite3_bind_int(stmt, 3, kRecordVersion);
    sqlite3_bind_int64(stmt, 4, r.ts_ns);
    // SQLITE_STATIC: the staged bytes outlive the step; a null pointer would bind NULL, so an empty body is
    // a zeroblob.
    if (r.size == 0) {
      sqlite3_bind_zeroblob(stmt, 5, 0);
    } else {
      sqlite3_bind_blob(stmt, 5, bytes.data() + r.offset, static_cast<int>(r.size), SQLITE_STATIC);
    }
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
      Error error = sqlite_error(("append seq " + std::to_string(r.seq)).c_str());
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      return make_error(error.message);
    }
    sqlite3_reset(stmt);
  }
  sqlite3_clear_bindings(stmt);  // the staged bytes it pointed at are about to be reused
  return {};
}

void Journal::drop_staged() {
  staged_.clear();
  staged_bytes_.clear();
  staged_written_ = 0;
}

Status Journal::commit() {
  if (writer_ != nullptr) {
    if (writer_->failed.load(std::memory_order_acquire)) return writer_error();
    if (staged_.empty()) return {};
    {
      std::lock_guard lock(writer_->mutex);
      Writer::Batch batch;
      batch.records.swap(staged_);
      batch.bytes.swap(staged_bytes_);
      writer_->queued.push_back(std::move(batch));
      if (!writer_->spare.empty()) {
        staged_.swap(writer_->spare.back().records);
        staged_bytes_.swap(writer_->spare.back().bytes);
        writer_->spare.pop_back();
      }
    }
    writer_->work.notify_one();
    return {};
  }
  if (!in_transaction_ && staged_.empty()) return {};
  const auto started = std::chrono::steady_clock::now();
  Status status;
  if (!in_transaction_) {
    status = exec("BEGIN IMMEDIATE", "begin a transaction");
    if (!status.ok()) {
      return make_error(status.message() + "; " + std::to_string(pending()) +
                        " appended records are still pending, commit can be retried");
    }
    in_transaction_ = true;
  }
  status = write_staged();
  if (!status.ok()) {
    // Nothing of this transaction can be trusted: it is rolled back whole.
    (void)exec("ROLLBACK", "roll back");
  } else {
    status = exec("COMMIT", "commit");
  }
  if (status.ok()) {
    in_transaction_ = false;
    durable_seq_ = last_seq_;
    drop_staged();
    commit_latency_.record(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started)
            .count());
    return {};
  }
  if (sqlite3_get_autocommit(db_) != 0) {
    // SQLite rolled the transaction back: the pending records are gone.
    const std::size_t lost = pending();
    in_transaction_ = false;
    last_seq_ = durable_seq_;
    drop_staged();
    return make_error(status.message() + "; rolled back: " + std::to_string(lost) +
                      " appended records were not made durable, the next seq is " +
                      std::to_string(last_seq_ + 1));
  }
  return make_error(status.message() + "; " + std::to_string(pending()) +
                    " appended records are still pending, commit can be retried");
}

Status Journal::start_writer(std::function<void()> on_durable) {
  if (read_only_) return make_error("journal " + path_ + ": opened read-only, it has no writer");
  if (writer_ != nullptr) return {};
  if (Status s = commit(); !s.ok()) return s;  // what is pending is written here, before the thread owns it
  writer_ = std::make_unique<Writer>();
  writer_->on_durable = std::move(on_durable);
  writer_->thread = std::thread([this] { writer_loop(); });
  return {};
}

void Journal::writer_loop() {
  Writer& w = *writer_;
  std::vector<Writer::Batch> taking;
  for (;;) {
    {
      std::unique_lock lock(w.mutex);
      w.work.wait(lock, [&] { return w.stop || !w.queued.empty(); });
      if (w.queued.empty()) return;  // stopping, with nothing left to write
      taking.swap(w.queued);
      w.busy = true;
    }
    // Everything handed since the last write, in one transaction and one fsync.
    const auto started = std::chrono::steady_clock::now();
    Status status = exec("BEGIN IMMEDIATE", "begin a transaction");
    for (std::size_t b = 0; status.ok() && b < taking.size(); ++b) {
      std::size_t next = 0;
      status = insert_records(taking[b].records, taking[b].bytes, next);
    }
    if (status.ok()) {
      status = exec("COMMIT", "commit");
    }
    if (!status.ok() && sqlite3_get_autocommit(db_) == 0) (void)exec("ROLLBACK", "roll back");
    std::uint64_t last = 0;
    for (const auto& batch : taking)
      if (!batch.records.empty()) last = batch.records.back().seq;
    {
      std::lock_guard lock(w.mutex);
      w.busy = false;
      if (status.ok()) {
        durable_seq_.store(last, std::memory_order_release);
        commit_latency_.record(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started)
                .count());
      } else {
        w.error = make_error(status.message() + "; the journal's writer stopped: the records from seq " +
                             std::to_string(durable_seq() + 1) + " on were not made durable");
        w.failed.store(true, std::memory_order_release);
      }
      for (auto& batch : taking) {
        batch.records.clear();
        batch.bytes.clear();
        w.spare.push_back(std::move(batch));
      }
      taking.clear();
    }
    w.written.notify_all();
    if (w.on_durable) w.on_durable();
    if (!status.ok()) return;
  }
}

Status Journal::wait_durable() {
  if (writer_ == nullptr) return commit();
  if (Status s = commit(); !s.ok()) return s;
  std::unique_lock lock(writer_->mutex);
  writer_->written.wait(
      lock, [&] { return writer_->failed.load() || (writer_->queued.empty() && !writer_->busy); });
  return writer_->failed.load() ? writer_->error : Status{};
}

Status Journal::writer_error() const {
  if (writer_ == nullptr || !writer_->failed.load(std::memory_order_acquire)) return {};
  std::lock_guard lock(writer_->mutex);
  return writer_->error;
}

LatencyHistogram Journal::commit_latency() const {
  if (writer_ == nullptr) return commit_latency_;
  std::lock_guard lock(writer_->mutex);
  return commit_latency_;
}

std::uint64_t Journal::read_limit() const {
  if (writer_ != nullptr) return durable_seq();  // the reading connection sees committed rows only
  return in_transaction_ || !staged_.empty()
             ? durable_seq()
             : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
}

Status Journal::replay(const std::function<Status(const Record&)>& fn, std::uint64_t from_seq) const {
  from_seq = std::max<std::uint64_t>(from_seq, 1);
  const std::uint64_t durable = durable_seq();
  const std::uint64_t limit = read_limit();
  if (from_seq > limit) return {};
  auto select = prepare_read(
      "SELECT seq, type, version, ts_ns, body FROM journal WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq",
      "replay");
  if (!select) return select.error();
  sqlite3_stmt* stmt = select->get();
  sqlite3_bind_int64(stmt, 1, static_cast<sqlite3_int64>(from_seq));
  sqlite3_bind_int64(stmt, 2, static_cast<sqlite3_int64>(limit));

  std::uint64_t expected = from_seq;
  Record record;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const std::int64_t seq = sqlite3_column_int64(stmt, 0);
    const std::string at = "journal " + path_ + ": seq ";
    if (seq != static_cast<std::int64_t>(expected)) {
      return make_error(at + std::to_string(expected) +
                        " is missing (a gap in the seqs: the next stored is " + std::to_string(seq) + ")");
    }
    const std::int64_t type = sqlite3_column_int64(stmt, 1);
    const std::int64_t version = sqlite3_column_int64(stmt, 2);
    if (type < 0 || type > std::numeric_limits<std::uint16_t>::max()) {
      return make_error(at + std::to_string(seq) + ": record type " + std::to_string(type) + " out of range");
    }
    if (version < 0 || version > std::numeric_limits<std::uint16_t>::max()) {
      return make_error(at + std::to_string(seq) + ": layout version " + std::to_string(version) +
                        " out of range");
    }
    if (sqlite3_column_type(stmt, 4) != SQLITE_BLOB) {
      return make_error(at + std::to_string(seq) + ": body is not a blob");
    }
    // Blob first, then its size (the order SQLite documents).
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, 4));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, 4));
    auto body = decode_body(static_cast<RecordType>(type), static_cast<std::uint16_t>(version),
                            std::span<const std::uint8_t>(data, data == nullptr ? 0 : size));
    if (!body) return make_error(at + std::to_string(seq) + ": " + body.error().message);
    record.seq = static_cast<std::uint64_t>(seq);
    record.ts_ns = sqlite3_column_int64(stmt, 3);
    record.body = std::move(body).value();
    if (Status status = fn(record); !status.ok()) return status;
    ++expected;
  }
  if (rc != SQLITE_DONE) return sqlite_error_on(sqlite3_db_handle(stmt), "replay");
  // Rows up to the durable seq were committed by this journal: one missing at the end is a gap too.
  if (expected <= durable && limit >= durable) {
    return make_error("journal " + path_ + ": seqs " + std::to_string(expected) + ".." +
                      std::to_string(durable) + " are missing (committed, not found)");
  }
  return {};
}

Result<std::uint64_t> Journal::count() const {
  auto stmt = prepare_read("SELECT count(*) FROM journal WHERE seq <= ?1", "count");
  if (!stmt) return stmt.error();
  sqlite3_bind_int64(stmt->get(), 1, static_cast<sqlite3_int64>(read_limit()));
  if (sqlite3_step(stmt->get()) != SQLITE_ROW)
    return sqlite_error_on(sqlite3_db_handle(stmt->get()), "count");
  return static_cast<std::uint64_t>(sqlite3_column_int64(stmt->get(), 0));
}

Status Journal::exec(const char* sql, const char* what) const {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return make_error("journal " + path_ + ": " + what + ": " + text);
  }
  return {};
}

Result<Journal::Stmt> Journal::prepare(const char* sql, const char* what) const {
  return prepare_on(db_, sql, what);
}

Result<Journal::Stmt> Journal::prepare_on(sqlite3* db, const char* sql, const char* what) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_error_on(db, what);
  }
  return Stmt(stmt);
}

Result<Journal::Stmt> Journal::prepare_read(const char* sql, const char* what) const {
  if (writer_ == nullptr) return prepare(sql, what);
  if (read_db_ == nullptr &&
      sqlite3_open_v2(path_.c_str(), &read_db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) !=
          SQLITE_OK) {
    const std::string text = read_db_ != nullptr ? sqlite3_errmsg(read_db_) : "out of memory";
    sqlite3_close_v2(read_db_);
    read_db_ = nullptr;
    return make_error("journal " + path_ + ": " + what + ": cannot open a reading connection: " + text);
  }
  return prepare_on(read_db_, sql, what);
}

Error Journal::sqlite_error(const char* what) const {
  return sqlite_error_on(db_, what);
}

Error Journal::sqlite_error_on(sqlite3* db, const char* what) const {
  if (db == nullptr) return make_error("journal " + path_ + ": " + what + ": out of memory");
  return make_error("journal " + path_ + ": " + what + ": " + sqlite3_errmsg(db) + " (SQLite error " +
                    std::to_string(sqlite3_extended_errcode(db)) + ")");
}

}  // namespace tranche::oms

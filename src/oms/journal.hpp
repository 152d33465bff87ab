#pragma once
// The journal: every record the OMS acts on, appended in order to one SQLite file (the embedded default
// store), and read back in the same order on start-up and after a crash.
//
// Appends go into an open transaction and are durable only once commit() returns: commit is one COMMIT, one
// fsync of the WAL (journal_mode=WAL, synchronous=FULL), for everything appended since the last one (group
// commit). What was appended but not committed is gone after the process ends, exactly as after a crash: the
// destructor rolls back, it never commits.
//
// One writer per file, enforced: a writer holds an exclusive lock on "<path>-lock" (with its pid in it) for
// as long as the Journal is open, and a second writer is refused at open, naming that pid. Readers take no
// lock. Not thread-safe: one thread owns a Journal.
//
// With its writer thread (start_writer(), `tranche serve`), commit() does not wait for the disk: it hands
// what was appended to the thread and returns, and the thread writes everything handed to it since its
// last write in one transaction and one fsync (group commit across events and parents), then publishes
// durable_seq(). The owner lets nothing leave that a record not yet durable created (OrderManager holds its
// requests until durable_seq() passes their records). Without it (execute, backtest, the tests), commit()
// is the write and the fsync, so a run's timing on the market's clock does not depend on the disk's.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/latency_histogram.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "oms/records.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tranche::oms {

struct JournalOptions {
  bool create = true;      // create the file (and the journal in it) when missing
  bool read_only = false;  // replay and count only; append and commit fail
};

class Journal {
 public:
  // Opens (or creates) the journal at `path`. A file that is not a Tranche journal (not SQLite, another
  // database, or a format newer than this build reads) is an error naming the path; nothing is written to it.
  // A journal opened read-only where SQLite may not create its shared-memory file (a read-only copy, a
  // folder we may not write) is read from a private copy of it and its log, removed when it is closed.
  static Result<std::unique_ptr<Journal>> open(const std::string& path, JournalOptions options = {});

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  // Rolls back whatever was appended since the last commit (it was never durable) and closes.
  ~Journal();

  // Appends one record and returns its seq: the next after the last appended (seqs run from 1 without gaps).
  // Not durable until commit().
  Result<std::uint64_t> append(TimestampNs ts_ns, const RecordBody& body);
  // Makes everything appended since the last commit durable, with one fsync. A no-op when nothing is pending.
  // On failure the pending records stay pending when SQLite kept the transaction (commit can be retried), and
  // are dropped (last_seq() falls back to durable_seq()) when it rolled it back; the error says which.
  // With the writer thread: hands everything appended since the last commit to the thread and returns (an
  // error only when the thread failed: a write or an fsync it could not make, after which nothing more is
  // written and the owner must stop).
  Status commit();

  // Starts the writer thread (once; a read-only journal has none). `on_durable` is called on that thread
  // each time durable_seq() moves on (to wake the owner's loop); it must not call into the Journal.
  Status start_writer(std::function<void()> on_durable = {});
  bool has_writer() const { return writer_ != nullptr; }
  // Waits until everything handed to the writer thread is durable (or it failed): a server stopping. Without
  // the thread, the same as commit().
  Status wait_durable();
  // The writer thread's failure, once it has failed (ok until then).
  Status writer_error() const;

  std::uint64_t last_seq() const { return last_seq_; }  // the last appended, committed or not
  std::uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }  // on disk
  std::size_t pending() const { return static_cast<std::size_t>(last_seq_ - durable_seq()); }
  const std::string& path() const { return path_; }

  // Calls `fn` for every committed record from `from_seq` on, in seq order, and stops at the first error:
  // fn's own, a record that does not decode (the error names its seq) or a gap in the seqs.
  Status replay(const std::function<Status(const Record&)>& fn, std::uint64_t from_seq = 1) const;
  // Number of committed records.
  Result<std::uint64_t> count() const;

  // Called with each record as it is appended (its seq assigned, not yet durable): a front end that tells
  // what was journaled holds it until durable_seq() reaches it. One listener; empty: none.
  using AppendListener = std::function<void(std::uint64_t seq, TimestampNs ts_ns, const RecordBody& body)>;
  void set_append_listener(AppendListener listener) { listener_ = std::move(listener); }
  // How long each commit that wrote something took (the COMMIT and its fsync), wall clock: a copy, as the
  // writer thread may be recording into it.
  LatencyHistogram commit_latency() const;

 private:
  struct StmtDeleter {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

  Journal(std::string path, sqlite3* db, bool read_only);
  Status init(bool create);
  Status check_format(bool create);
  Status exec(const char* sql, const char* what) const;
  Result<Stmt> prepare(const char* sql, const char* what) const;
  // Reads go through their own connection while the writer thread owns the writing one.
  Result<Stmt> prepare_read(const char* sql, const char* what) const;
  Result<Stmt> prepare_on(sqlite3* db, const char* sql, const char* what) const;
  Error sqlite_error(const char* what) const;  // the writing connection's last error
  Error sqlite_error_on(sqlite3* db, const char* what) const;
  // The highest seq a read may return: its own uncommitted rows are visible to this connection, so reads stop
  // at the durable seq while a transaction is open.
  std::uint64_t read_limit() const;

  std::string path_;
  sqlite3* db_ = nullptr;
  int lock_fd_ = -1;         // a writer's lock on "<path>-lock" (see open); -1 for a reader
  std::string scratch_dir_;  // a reader of a file it may not write reads a private copy here (see open)
  static Result<std::unique_ptr<Journal>> open_private_copy(const std::string& path);
  bool read_only_ = false;
  bool in_transaction_ = false;
  std::atomic<std::uint64_t> durable_seq_ = 0;
  std::uint64_t last_seq_ = 0;
  Stmt insert_;
  // Records appended since the last commit, encoded, written into the transaction by commit().
  struct Staged {
    std::uint64_t seq;
    int type;
    TimestampNs ts_ns;
    std::size_t offset, size;
  };
  std::vector<Staged> staged_;
  std::vector<std::uint8_t> staged_bytes_;
  std::size_t staged_written_ = 0;  // written into the open transaction (a failed COMMIT can be retried)
  Status write_staged();
  void drop_staged();
  AppendListener listener_;
  LatencyHistogram commit_latency_;
  // The writer thread and what it shares with the owner (journal.cpp).
  struct Writer;
  std::unique_ptr<Writer> writer_;
  mutable sqlite3* read_db_ = nullptr;  // with the writer thread: the owner's reads
  // Inserts records[next...] (their bytes in `bytes`) into the open transaction; `next` moves past each one
  // written, so a failed step can be retried from where it stopped.
  Status insert_records(const std::vector<Staged>& records, const std::vector<std::uint8_t>& bytes,
                        std::size_t& next);
  void writer_loop();
};

}  // namespace tranche::oms

#pragma once
// Test support: an SQLite VFS that simulates a power cut. It is a shim over the default "unix" VFS,
// registered as "power_cut": writes to database, WAL and journal files are held in memory per file
// (shared by every connection of the process, like the kernel's page cache) and reach the real
// file only at xSync. power_cut() throws away everything not synced and freezes the disk: later
// writes, syncs and deletes (connections closing, a checkpoint on close) change nothing. After the
// connections are gone, recover() removes the shared-memory index files (volatile, rebuilt from the
// WAL on open) and thaws the disk; what a new connection then reads is what a machine would find
// after rebooting.
//
// Simplifications: truncation is buffered like a write; SQLITE_FCNTL_SIZE_HINT is ignored;
// memory-mapped I/O is off for shimmed files (io methods version 2). Not thread-safe against
// power_cut() itself (call it while no statement runs).

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace cms::test {

class power_cut_vfs {
public:
  static constexpr const char* name = "power_cut";

  /// Registers the VFS once per process (not as the default) and returns it.
  static power_cut_vfs& instance() {
    static power_cut_vfs* vfs = new power_cut_vfs(); // never destroyed: SQLite may keep it
    return *vfs;
  }

  /// Drops every unsynced write of every file and freezes the disk.
  void power_cut() {
    std::lock_guard lock{mutex_};
    frozen_ = true;
    for (auto& [path, f] : files_)
      f.ops.clear();
  }

  /// After every connection is closed: removes `db`'s -shm file and thaws the disk.
  void recover(const std::vector<std::filesystem::path>& dbs) {
    std::lock_guard lock{mutex_};
    for (auto& db : dbs) {
      std::error_code ec;
      std::filesystem::remove(db.string() + "-shm", ec);
    }
    files_.clear();
    frozen_ = false;
  }

  /// Syncs seen so far (every file): how often a commit reached the disk.
  std::uint64_t syncs() const {
    std::lock_guard lock{mutex_};
    return syncs_;
  }

private:
  struct op {
    bool truncate = false;
    sqlite3_int64 offset = 0; ///< write offset, or the new size of a truncate
    std::vector<unsigned char> data;
  };
  struct file_state {
    std::vector<op> ops; ///< not yet synced, in order
  };
  struct shim_file {
    sqlite3_file base;
    power_cut_vfs* vfs;
    std::string path; ///< empty: not buffered (temp files)
    sqlite3_file* real;
  };

  power_cut_vfs() {
    real_ = sqlite3_vfs_find("unix");
    if (!real_)
      throw std::runtime_error("power_cut_vfs: no \"unix\" VFS");
    vfs_ = *real_;
    vfs_.zName = name;
    vfs_.pAppData = this;
    vfs_.szOsFile = static_cast<int>(sizeof(shim_file)) + real_->szOsFile;
    vfs_.xOpen = &x_open;
    vfs_.xDelete = &x_delete;
    vfs_.pNext = nullptr;
    std::memset(&io_, 0, sizeof io_);
    io_.iVersion = 2;
    io_.xClose = &x_close;
    io_.xRead = &x_read;
    io_.xWrite = &x_write;
    io_.xTruncate = &x_truncate;
    io_.xSync = &x_sync;
    io_.xFileSize = &x_file_size;
    io_.xLock = [](sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); };
    io_.xUnlock = [](sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); };
    io_.xCheckReservedLock = [](sqlite3_file* f, int* out) {
      return real(f)->pMethods->xCheckReservedLock(real(f), out);
    };
    io_.xFileControl = [](sqlite3_file* f, int op, void* arg) {
      if (op == SQLITE_FCNTL_SIZE_HINT)
        return SQLITE_OK; // would grow the real file behind the buffer's back
      return real(f)->pMethods->xFileControl(real(f), op, arg);
    };
    io_.xSectorSize = [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); };
    io_.xDeviceCharacteristics = [](sqlite3_file* f) {
      return real(f)->pMethods->xDeviceCharacteristics(real(f));
    };
    io_.xShmMap = [](sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
      return real(f)->pMethods->xShmMap(real(f), pg, sz, extend, p);
    };
    io_.xShmLock = [](sqlite3_file* f, int offset, int n, int flags) {
      return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
    };
    io_.xShmBarrier = [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); };
    io_.xShmUnmap = [](sqlite3_file* f, int del) {
      return real(f)->pMethods->xShmUnmap(real(f), del);
    };
    int rc = sqlite3_vfs_register(&vfs_, 0);
    if (rc != SQLITE_OK)
      throw std::runtime_error("power_cut_vfs: register failed");
  }

  static shim_file* shim(sqlite3_file* f) { return reinterpret_cast<shim_file*>(f); }
  static sqlite3_file* real(sqlite3_file* f) { return shim(f)->real; }
  static power_cut_vfs* self(sqlite3_vfs* v) { return static_cast<power_cut_vfs*>(v->pAppData); }

  static int x_open(sqlite3_vfs* v, const char* zname, sqlite3_file* f, int flags, int* out) {
    auto* me = self(v);
    auto* s = shim(f);
    new (&s->path) std::string();
    s->vfs = me;
    s->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(shim_file));
    int rc = me->real_->xOpen(me->real_, zname, s->real, flags, out);
    if (rc != SQLITE_OK) {
      s->path.~basic_string();
      f->pMethods = nullptr;
      return rc;
    }
    const int buffered = SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL;
    if (zname && (flags & buffered))
      s->path = zname;
    f->pMethods = &me->io_;
    return SQLITE_OK;
  }

  static int x_delete(sqlite3_vfs* v, const char* zname, int sync_dir) {
    auto* me = self(v);
    {
      std::lock_guard lock{me->mutex_};
      if (me->frozen_)
        return SQLITE_OK;
      me->files_.erase(zname);
    }
    return me->real_->xDelete(me->real_, zname, sync_dir);
  }

  static int x_close(sqlite3_file* f) {
    auto* s = shim(f);
    int rc = s->real->pMethods ? s->real->pMethods->xClose(s->real) : SQLITE_OK;
    s->path.~basic_string();
    return rc;
  }

  /// Size of the real file with the buffered operations applied.
  static sqlite3_int64 logical_size(sqlite3_file* f, const file_state* st) {
    sqlite3_int64 size = 0;
    real(f)->pMethods->xFileSize(real(f), &size);
    if (st)
      for (auto& o : st->ops)
        size =
          o.truncate
            ? o.offset
            : std::max<sqlite3_int64>(size, o.offset + static_cast<sqlite3_int64>(o.data.size()));
    return size;
  }

  file_state* state_of(const std::string& path) {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
  }

  static int x_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
    auto* s = shim(f);
    if (s->path.empty())
      return s->real->pMethods->xRead(s->real, buf, amount, offset);
    std::lock_guard lock{s->vfs->mutex_};
    auto* st = s->vfs->state_of(s->path);
    auto* out = static_cast<unsigned char*>(buf);
    int rc = s->real->pMethods->xRead(s->real, buf, amount, offset); // zero-fills a short read
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
      return rc;
    if (st) {
      for (auto& o : st->ops) {
        if (o.truncate) {
          if (o.offset < offset + amount) {
            auto from = std::max<sqlite3_int64>(o.offset, offset);
            std::memset(out + (from - offset), 0, static_cast<std::size_t>(offset + amount - from));
          }
          continue;
        }
        auto lo = std::max<sqlite3_int64>(o.offset, offset);
        auto hi = std::min<sqlite3_int64>(o.offset + static_cast<sqlite3_int64>(o.data.size()),
                                          offset + amount);
        if (lo < hi)
          std::memcpy(out + (lo - offset), o.data.data() + (lo - o.offset),
                      static_cast<std::size_t>(hi - lo));
      }
    }
    return logical_size(f, st) < offset + amount ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
  }

  static int x_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
    auto* s = shim(f);
    if (s->path.empty())
      return s->real->pMethods->xWrite(s->real, buf, amount, offset);
    std::lock_guard lock{s->vfs->mutex_};
    if (s->vfs->frozen_)
      return SQLITE_OK;
    auto* p = static_cast<const unsigned char*>(buf);
    s->vfs->files_[s->path].ops.push_back(
      op{false, offset, std::vector<unsigned char>(p, p + amount)});
    return SQLITE_OK;
  }

  static int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    auto* s = shim(f);
    if (s->path.empty())
      return s->real->pMethods->xTruncate(s->real, size);
    std::lock_guard lock{s->vfs->mutex_};
    if (s->vfs->frozen_)
      return SQLITE_OK;
    s->vfs->files_[s->path].ops.push_back(op{true, size, {}});
    return SQLITE_OK;
  }

  static int x_sync(sqlite3_file* f, int flags) {
    auto* s = shim(f);
    if (s->path.empty())
      return s->real->pMethods->xSync(s->real, flags);
    std::lock_guard lock{s->vfs->mutex_};
    if (s->vfs->frozen_)
      return SQLITE_OK;
    ++s->vfs->syncs_;
    if (auto* st = s->vfs->state_of(s->path)) {
      for (auto& o : st->ops) {
        int rc = o.truncate ? s->real->pMethods->xTruncate(s->real, o.offset)
                            : s->real->pMethods->xWrite(s->real, o.data.data(),
                                                        static_cast<int>(o.data.size()), o.offset);
        if (rc != SQLITE_OK)
          return rc;
      }
      st->ops.clear();
    }
    return s->real->pMethods->xSync(s->real, flags);
  }

  static int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
    auto* s = shim(f);
    if (s->path.empty())
      return s->real->pMethods->xFileSize(s->real, size);
    std::lock_guard lock{s->vfs->mutex_};
    *size = logical_size(f, s->vfs->state_of(s->path));
    return SQLITE_OK;
  }

  sqlite3_vfs* real_ = nullptr;
  sqlite3_vfs vfs_{};
  sqlite3_io_methods io_{};
  mutable std::mutex mutex_;
  std::map<std::string, file_state> files_;
  bool frozen_ = false;
  std::uint64_t syncs_ = 0;
};

} // namespace cms::test

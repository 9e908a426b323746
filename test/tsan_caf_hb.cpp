// ThreadSanitizer annotations for CAF 0.17.6 (Debian's libcaf_core/libcaf_io), preloaded by
// scripts/tsan.sh into the TSan build's processes (LD_PRELOAD). Not part of any other build.
//
// Why: Debian's CAF is not built with -fsanitize=thread, so the atomics that order a message's
// construction (sender) before its handling (receiver), and one run of an actor before its next
// run on another worker, are invisible to TSan. Without this, every message payload and every
// actor's state showed up as a "data race" (5,643 reports in the first run, docs/performance.md).
// A suppression cannot express "ordered by the mailbox"; it can only hide every report that has
// some frame in common, real races included. Instead this file tells TSan the ordering CAF
// guarantees, and nothing more:
//   1. a message is released when it is enqueued to an actor and acquired when the actor's
//      mailbox visitor takes it (per mailbox element: one message, one edge);
//   2. a job (actor, BASP worker) is released when handed to a scheduler or multiplexer queue
//      and at the end of each run, and acquired at the start of each run: an actor's handlers
//      never overlap, whichever worker runs them;
//   3. a spawner's writes (the init function, its arguments) are released at launch.
// Two actors touching the same object through a pointer, an I/O thread and an actor sharing a
// struct without a lock, a static: none of these pass through the hooks, and TSan still reports
// them. Each hook calls the library's own function (dlsym RTLD_NEXT); the interposition works
// because libcaf calls these through the PLT or vtables with symbolic relocations (checked with
// readelf on 0.17.6). Offsets: the resumable base is at +160 in scheduled_actor and +16 in
// basp::worker (the "_ZThn160_"/"_ZThn16_" thunks name them).
#include <dlfcn.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>

extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

namespace {

void acquire(void* p) {
  if (__tsan_acquire && p)
    __tsan_acquire(p);
}

void release(void* p) {
  if (__tsan_release && p)
    __tsan_release(p);
}

template <class F>
F real(F& cache, const char* symbol) {
  if (!cache) {
    cache = reinterpret_cast<F>(dlsym(RTLD_NEXT, symbol));
    if (!cache) {
      std::fprintf(stderr, "tsan_caf_hb: %s not found: CAF is not 0.17.6?\n", symbol);
      std::abort();
    }
  }
  return cache;
}

constexpr std::ptrdiff_t actor_resumable = 160; // scheduled_actor -> its resumable base
constexpr std::ptrdiff_t basp_resumable = 16;   // basp::worker -> its resumable base

char* at(void* p, std::ptrdiff_t off) { return static_cast<char*>(p) + off; }

} // namespace

// Each hook is defined under the library's mangled name. ABI (Itanium, x86-64): `this` first, a
// by-value unique_ptr (non-trivial) by address, a returned one through a hidden first pointer,
// enums in a register.

// -- messages ----------------------------------------------------------------------------------

// void scheduled_actor::enqueue(mailbox_element_ptr, execution_unit*)
extern "C" void cms_sa_enqueue(void* self, void** ptr, void* eu) __asm__(
  "_ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_"
  "elementENS_6detail8disposerEEPNS_14execution_unitE");
extern "C" __attribute__((visibility("default"))) void cms_sa_enqueue(void* self, void** ptr,
                                                                      void* eu) {
  using fn_t = void (*)(void*, void**, void*);
  static fn_t fn = nullptr;
  release(*ptr);
  real(fn, "_ZN3caf15scheduled_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_"
           "6detail8disposerEEPNS_14execution_unitE")(self, ptr, eu);
}

// intrusive::task_result scheduled_actor::mailbox_visitor::operator()(mailbox_element&)
extern "C" int
cms_sa_visit(void* visitor,
             void* x) __asm__("_ZN3caf15scheduled_actor15mailbox_visitorclERNS_15mailbox_elementE");
extern "C" __attribute__((visibility("default"))) int cms_sa_visit(void* visitor, void* x) {
  using fn_t = int (*)(void*, void*);
  static fn_t fn = nullptr;
  acquire(x);
  return real(fn, "_ZN3caf15scheduled_actor15mailbox_visitorclERNS_15mailbox_elementE")(visitor, x);
}

// void blocking_actor::enqueue(mailbox_element_ptr, execution_unit*) (scoped_actor, receive)
extern "C" void cms_ba_enqueue(void* self, void** ptr, void* eu) __asm__(
  "_ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_"
  "elementENS_6detail8disposerEEPNS_14execution_unitE");
extern "C" __attribute__((visibility("default"))) void cms_ba_enqueue(void* self, void** ptr,
                                                                      void* eu) {
  using fn_t = void (*)(void*, void**, void*);
  static fn_t fn = nullptr;
  release(*ptr);
  real(fn, "_ZN3caf14blocking_actor7enqueueESt10unique_ptrINS_15mailbox_elementENS_"
           "6detail8disposerEEPNS_14execution_unitE")(self, ptr, eu);
}

// mailbox_element_ptr blocking_actor::dequeue(): returned through the hidden pointer (first).
extern "C" void** cms_ba_dequeue(void** ret,
                                 void* self) __asm__("_ZN3caf14blocking_actor7dequeueEv");
extern "C" __attribute__((visibility("default"))) void** cms_ba_dequeue(void** ret, void* self) {
  using fn_t = void** (*)(void**, void*);
  static fn_t fn = nullptr;
  auto r = real(fn, "_ZN3caf14blocking_actor7dequeueEv")(ret, self);
  acquire(*ret);
  return r;
}

// -- jobs: actors and BASP workers on the scheduler, brokers on the multiplexer ----------------

#define CMS_JOB_QUEUE(cname, symbol)                                                               \
  extern "C" void cname(void* self, void* job) __asm__(symbol);                                    \
  extern "C" __attribute__((visibility("default"))) void cname(void* self, void* job) {            \
    using fn_t = void (*)(void*, void*);                                                           \
    static fn_t fn = nullptr;                                                                      \
    release(job);                                                                                  \
    real(fn, symbol)(self, job);                                                                   \
  }

CMS_JOB_QUEUE(cms_coord_enqueue,
              "_ZN3caf9scheduler11coordinatorINS_6policy13work_stealingEE7enqueueEPNS_9resumableE")
CMS_JOB_QUEUE(cms_worker_exec_later,
              "_ZN3caf9scheduler6workerINS_6policy13work_stealingEE10exec_laterEPNS_9resumableE")
CMS_JOB_QUEUE(cms_mpx_exec_later,
              "_ZN3caf2io7network19default_multiplexer10exec_laterEPNS_9resumableE")

// resume_result X::resume(execution_unit*, size_t), called either directly (key = this + offset)
// or through the resumable base's thunk (key = this).
#define CMS_RESUME(cname, symbol, offset)                                                          \
  extern "C" int cname(void* self, void* eu, std::size_t n) __asm__(symbol);                       \
  extern "C" __attribute__((visibility("default"))) int cname(void* self, void* eu,                \
                                                              std::size_t n) {                     \
    using fn_t = int (*)(void*, void*, std::size_t);                                               \
    static fn_t fn = nullptr;                                                                      \
    auto key = at(self, offset);                                                                   \
    acquire(key);                                                                                  \
    auto r = real(fn, symbol)(self, eu, n);                                                        \
    release(key);                                                                                  \
    return r;                                                                                      \
  }

CMS_RESUME(cms_sa_resume, "_ZN3caf15scheduled_actor6resumeEPNS_14execution_unitEm", actor_resumable)
CMS_RESUME(cms_sa_resume_thunk, "_ZThn160_N3caf15scheduled_actor6resumeEPNS_14execution_unitEm", 0)
CMS_RESUME(cms_broker_resume, "_ZN3caf2io15abstract_broker6resumeEPNS_14execution_unitEm",
           actor_resumable)
CMS_RESUME(cms_broker_resume_thunk,
           "_ZThn160_N3caf2io15abstract_broker6resumeEPNS_14execution_unitEm", 0)
CMS_RESUME(cms_basp_resume, "_ZN3caf2io4basp6worker6resumeEPNS_14execution_unitEm", basp_resumable)
CMS_RESUME(cms_basp_resume_thunk, "_ZThn16_N3caf2io4basp6worker6resumeEPNS_14execution_unitEm", 0)

// void X::launch(execution_unit*, bool lazy, bool hide): the spawner's writes before the first run.
#define CMS_LAUNCH(cname, symbol)                                                                  \
  extern "C" void cname(void* self, void* eu, bool lazy, bool hide) __asm__(symbol);               \
  extern "C" __attribute__((visibility("default"))) void cname(void* self, void* eu, bool lazy,    \
                                                               bool hide) {                        \
    using fn_t = void (*)(void*, void*, bool, bool);                                               \
    static fn_t fn = nullptr;                                                                      \
    release(at(self, actor_resumable));                                                            \
    real(fn, symbol)(self, eu, lazy, hide);                                                        \
  }

CMS_LAUNCH(cms_sa_launch, "_ZN3caf15scheduled_actor6launchEPNS_14execution_unitEbb")
CMS_LAUNCH(cms_broker_launch, "_ZN3caf2io15abstract_broker6launchEPNS_14execution_unitEbb")

// void basp::worker::launch(const node_id&, const header&, const std::vector<char>&): a worker
// comes back to the hub after a run and is launched again by the multiplexer with a new payload.
extern "C" void cms_basp_launch(void* self, void* node, void* hdr, void* payload) __asm__(
  "_ZN3caf2io4basp6worker6launchERKNS_7node_idERKNS1_6headerERKSt6vectorIcSaIcEE");
extern "C" __attribute__((visibility("default"))) void cms_basp_launch(void* self, void* node,
                                                                       void* hdr, void* payload) {
  using fn_t = void (*)(void*, void*, void*, void*);
  static fn_t fn = nullptr;
  acquire(at(self, basp_resumable));
  real(fn, "_ZN3caf2io4basp6worker6launchERKNS_7node_idERKNS1_6headerERKSt6vectorIcSaIcEE")(
    self, node, hdr, payload);
}

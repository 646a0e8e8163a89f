// ingot_gloo: a torch.distributed-style process group on Gloo for Node.js.
//
// One ProcessGroup owns a Gloo context (TCP transport, full mesh) and one communication thread.
// Every collective is queued to that thread in call order, so all ranks issue Gloo operations in
// the same order, and the JS thread keeps running (the backward pass) while they run. A collective
// returns a Promise, resolved through a thread-safe function with the start and end times of the
// Gloo call (CLOCK_MONOTONIC ns, the clock of process.hrtime) for traces. The typed arrays are used
// in place (zero-copy) and kept alive by references until the operation ends. Every collective has
// Gloo's timeout; after a failure (a peer gone, a timeout) the group is marked broken and every
// later operation fails at once with the first error.
#include <napi.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gloo/allgather.h"
#include "gloo/allreduce.h"
#include "gloo/barrier.h"
#include "gloo/broadcast.h"
#include "gloo/math.h"
#include "gloo/rendezvous/context.h"
#include "gloo/transport/tcp/device.h"
#include "store_client.h"

namespace {

double monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

enum class DType { F32, F64, I32 };

struct Buf {
  void* data = nullptr;
  size_t elements = 0;
  DType dtype = DType::F32;
};

struct Job {
  std::string name;
  std::function<void()> work;  // runs on the communication thread; throws on failure
  std::string error;
  double startNs = 0, endNs = 0;
  // Async jobs: the promise and the typed arrays kept alive (both touched on the JS thread only).
  std::unique_ptr<Napi::Promise::Deferred> deferred;
  std::vector<Napi::ObjectReference> keep;
  // Blocking jobs: the JS thread waits on this.
  std::promise<void>* done = nullptr;
};

// State shared with the communication thread (which may outlive the JS object at exit).
struct State {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job*> queue;
  bool stop = false;
  bool running = false;
  std::string broken;  // the first failure; empty while healthy
  std::shared_ptr<gloo::Context> context;
  Napi::ThreadSafeFunction tsfn;
};

template <typename T>
void allreduceT(const std::shared_ptr<gloo::Context>& ctx, T* ptr, size_t n, int op) {
  gloo::AllreduceOptions opts(ctx);
  opts.setOutput(ptr, n);
  using Fn = void (*)(void*, const void*, const void*, size_t);
  Fn fn = op == 1 ? static_cast<Fn>(&gloo::max<T>) : op == 2 ? static_cast<Fn>(&gloo::min<T>) : op == 3 ? static_cast<Fn>(&gloo::product<T>) : static_cast<Fn>(&gloo::sum<T>);
  opts.setReduceFunction(fn);
  gloo::allreduce(opts);
}

// Calls f with a value of the C++ type of the dtype (float, double, int32_t).
template <typename F>
void withType(DType d, F&& f) {
  if (d == DType::F32) f(float{});
  else if (d == DType::F64) f(double{});
  else f(int32_t{});
}

void commLoop(std::shared_ptr<State> st) {
  while (true) {
    Job* job;
    {
      std::unique_lock<std::mutex> lock(st->mu);
      st->cv.wait(lock, [&] { return st->stop || !st->queue.empty(); });
      if (st->queue.empty()) return;  // stop requested and nothing left
      job = st->queue.front();
      st->queue.pop_front();
      st->running = true;
    }
    std::string broken;
    {
      std::lock_guard<std::mutex> lock(st->mu);
      broken = st->broken;
    }
    job->startNs = monotonicNs();
    if (!broken.empty() && job->name != "close") {
      job->error = "the process group is broken by an earlier failure: " + broken;
    } else {
      try {
        job->work();
      } catch (const std::exception& e) {
        job->error = e.what();
      } catch (...) {
        job->error = "unknown error";
      }
      if (!job->error.empty()) {
        std::lock_guard<std::mutex> lock(st->mu);
        if (st->broken.empty()) st->broken = job->name + ": " + job->error;
      }
    }
    job->endNs = monotonicNs();
    {
      std::lock_guard<std::mutex> lock(st->mu);
      st->running = false;
    }
    if (job->done) {
      job->done->set_value();  // the JS thread owns the job
    } else {
      napi_status s = st->tsfn.BlockingCall(job, [](Napi::Env env, Napi::Function, Job* j) {
        if (j->error.empty()) {
          Napi::Object r = Napi::Object::New(env);
          r.Set("startNs", j->startNs);
          r.Set("endNs", j->endNs);
          j->deferred->Resolve(r);
        } else {
          Napi::Error err = Napi::Error::New(env, j->name + ": " + j->error);
          j->deferred->Reject(err.Value());
        }
        delete j;
      });
      if (s != napi_ok) delete job;  // the environment is going away
    }
  }
}

class ProcessGroup : public Napi::ObjectWrap<ProcessGroup> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ProcessGroup",
                       {
                           InstanceMethod("connect", &ProcessGroup::Connect),
                           InstanceMethod("allReduce", &ProcessGroup::AllReduce),
                           InstanceMethod("broadcast", &ProcessGroup::Broadcast),
                           InstanceMethod("allGather", &ProcessGroup::AllGather),
                           InstanceMethod("barrier", &ProcessGroup::Barrier),
                           InstanceMethod("close", &ProcessGroup::Close),
                           InstanceMethod("pending", &ProcessGroup::Pending),
                       });
  }

  explicit ProcessGroup(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroup>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "ProcessGroup: pass {rank, size, storeHost, storePort, prefix, hostname, iface, timeoutMs}");
    Napi::Object o = info[0].As<Napi::Object>();
    rank_ = o.Get("rank").As<Napi::Number>().Int32Value();
    size_ = o.Get("size").As<Napi::Number>().Int32Value();
    storeHost_ = o.Get("storeHost").As<Napi::String>().Utf8Value();
    storePort_ = o.Get("storePort").As<Napi::Number>().Int32Value();
    prefix_ = o.Get("prefix").As<Napi::String>().Utf8Value();
    hostname_ = o.Get("hostname").IsString() ? o.Get("hostname").As<Napi::String>().Utf8Value() : "";
    iface_ = o.Get("iface").IsString() ? o.Get("iface").As<Napi::String>().Utf8Value() : "";
    timeoutMs_ = o.Get("timeoutMs").As<Napi::Number>().Int64Value();
    st_ = std::make_shared<State>();
    st_->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "ingot_gloo", 0, 1);
    st_->tsfn.Unref(env);
    thread_ = std::thread(commLoop, st_);
  }

  ~ProcessGroup() override { Shutdown(); }

 private:
  void Shutdown() {
    if (!thread_.joinable()) return;
    bool busy;
    {
      std::lock_guard<std::mutex> lock(st_->mu);
      st_->stop = true;
      busy = st_->running || !st_->queue.empty();
    }
    st_->cv.notify_all();
    // A thread stuck in a collective would keep the process until Gloo's timeout: let it go.
    if (busy) thread_.detach();
    else thread_.join();
  }

  Buf bufferOf(Napi::Env env, Napi::Value v, const char* what) {
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, std::string(what) + " must be a Float32Array, Float64Array or Int32Array");
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    Buf b;
    switch (ta.TypedArrayType()) {
      case napi_float32_array: b.dtype = DType::F32; break;
      case napi_float64_array: b.dtype = DType::F64; break;
      case napi_int32_array: b.dtype = DType::I32; break;
      default: throw Napi::TypeError::New(env, std::string(what) + " must be a Float32Array, Float64Array or Int32Array");
    }
    b.data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    b.elements = ta.ElementLength();
    return b;
  }

  // Queues a job. blocking: wait here (the JS thread) and return the timings or throw; otherwise a Promise.
  Napi::Value Submit(Napi::Env env, Job* job, bool blocking, const std::vector<Napi::Value>& keep) {
    {
      std::lock_guard<std::mutex> lock(st_->mu);
      if (st_->stop) {
        delete job;
        throw Napi::Error::New(env, "the process group was destroyed; call initProcessGroup again");
      }
    }
    if (blocking) {
      std::promise<void> done;
      auto fut = done.get_future();
      job->done = &done;
      {
        std::lock_guard<std::mutex> lock(st_->mu);
        st_->queue.push_back(job);
      }
      st_->cv.notify_one();
      fut.wait();
      std::unique_ptr<Job> owned(job);
      if (!job->error.empty()) throw Napi::Error::New(env, job->name + ": " + job->error);
      Napi::Object r = Napi::Object::New(env);
      r.Set("startNs", job->startNs);
      r.Set("endNs", job->endNs);
      return r;
    }
    job->deferred = std::make_unique<Napi::Promise::Deferred>(env);
    for (auto& v : keep) job->keep.push_back(Napi::Persistent(v.As<Napi::Object>()));
    Napi::Promise p = job->deferred->Promise();
    if (pending_++ == 0) st_->tsfn.Ref(env);
    // Drop the loop reference once the promise settles: chain a counter on it.
    std::shared_ptr<State> st = st_;
    {
      std::lock_guard<std::mutex> lock(st_->mu);
      st_->queue.push_back(job);
    }
    st_->cv.notify_one();
    Napi::Function then = p.Get("then").As<Napi::Function>();
    auto settle = Napi::Function::New(env, [this](const Napi::CallbackInfo& i) {
      if (--pending_ == 0) st_->tsfn.Unref(i.Env());
      return i.Env().Undefined();
    });
    then.Call(p, {settle, settle});
    return p;
  }

  Napi::Value Connect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto st = st_;
    int rank = rank_, size = size_, port = storePort_;
    std::string host = storeHost_, prefix = prefix_, hostname = hostname_, iface = iface_;
    auto timeout = std::chrono::milliseconds(timeoutMs_);
    Job* job = new Job();
    job->name = "initProcessGroup";
    job->work = [=]() {
      ingot_gloo::TcpStoreClient store(host, port, prefix, timeout);
      gloo::transport::tcp::attr attr;
      if (!iface.empty()) attr.iface = iface;
      else attr.hostname = hostname;
      auto dev = gloo::transport::tcp::CreateDevice(attr);
      auto ctx = std::make_shared<gloo::rendezvous::Context>(rank, size);
      ctx->setTimeout(timeout);
      ctx->connectFullMesh(store, dev);
      std::lock_guard<std::mutex> lock(st->mu);
      st->context = ctx;
    };
    return Submit(env, job, false, {});
  }

  std::shared_ptr<gloo::Context> ctxFor(const std::shared_ptr<State>& st) {
    std::lock_guard<std::mutex> lock(st->mu);
    if (!st->context) throw std::runtime_error("the process group is not connected");
    return st->context;
  }

  // Queues `work(context)` as the collective `name`, keeping `keep` (the typed arrays) alive.
  Napi::Value Collective(Napi::Env env, const char* name, bool blocking, const std::vector<Napi::Value>& keep, std::function<void(const std::shared_ptr<gloo::Context>&)> work) {
    auto st = st_;
    Job* job = new Job();
    job->name = name;
    job->work = [this, st, work]() { work(ctxFor(st)); };
    return Submit(env, job, blocking, keep);
  }

  static bool blockingArg(const Napi::Value& v) { return v.IsBoolean() && v.As<Napi::Boolean>().Value(); }

  Napi::Value AllReduce(const Napi::CallbackInfo& info) {
    Buf b = bufferOf(info.Env(), info[0], "allReduce: the tensor data");
    int op = info[1].As<Napi::Number>().Int32Value();
    return Collective(info.Env(), "allReduce", blockingArg(info[2]), {info[0]}, [b, op](const std::shared_ptr<gloo::Context>& ctx) {
      withType(b.dtype, [&](auto zero) {
        using T = decltype(zero);
        allreduceT(ctx, static_cast<T*>(b.data), b.elements, op);
      });
    });
  }

  Napi::Value Broadcast(const Napi::CallbackInfo& info) {
    Buf b = bufferOf(info.Env(), info[0], "broadcast: the tensor data");
    int root = info[1].As<Napi::Number>().Int32Value();
    return Collective(info.Env(), "broadcast", blockingArg(info[2]), {info[0]}, [b, root](const std::shared_ptr<gloo::Context>& ctx) {
      withType(b.dtype, [&](auto zero) {
        using T = decltype(zero);
        gloo::BroadcastOptions opts(ctx);
        opts.setRoot(root);
        opts.setOutput(static_cast<T*>(b.data), b.elements);
        gloo::broadcast(opts);
      });
    });
  }

  Napi::Value AllGather(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Buf in = bufferOf(env, info[0], "allGather: the input");
    Buf out = bufferOf(env, info[1], "allGather: the output");
    if (in.dtype != out.dtype) throw Napi::TypeError::New(env, "allGather: the input and the output must have the same dtype");
    if (out.elements != in.elements * static_cast<size_t>(size_))
      throw Napi::RangeError::New(env, "allGather: the output must hold worldSize × input elements (" + std::to_string(in.elements * size_) + "), it holds " + std::to_string(out.elements));
    return Collective(env, "allGather", blockingArg(info[2]), {info[0], info[1]}, [in, out](const std::shared_ptr<gloo::Context>& ctx) {
      withType(in.dtype, [&](auto zero) {
        using T = decltype(zero);
        gloo::AllgatherOptions opts(ctx);
        opts.setInput(static_cast<T*>(in.data), in.elements);
        opts.setOutput(static_cast<T*>(out.data), in.elements * ctx->size);
        gloo::allgather(opts);
      });
    });
  }

  Napi::Value Barrier(const Napi::CallbackInfo& info) {
    return Collective(info.Env(), "barrier", blockingArg(info[0]), {}, [](const std::shared_ptr<gloo::Context>& ctx) {
      gloo::BarrierOptions opts(ctx);
      gloo::barrier(opts);
    });
  }

  Napi::Value Pending(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pending_); }

  // Waits for the queued operations, then drops the Gloo context (closing its connections).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto st = st_;
    Job* job = new Job();
    job->name = "close";
    job->work = [st]() {
      std::lock_guard<std::mutex> lock(st->mu);
      st->context.reset();
    };
    Napi::Value p = Submit(env, job, false, {});
    {
      std::lock_guard<std::mutex> lock(st_->mu);
      st_->stop = true;  // the loop ends once the queue is empty
    }
    st_->cv.notify_all();
    return p;
  }

  int rank_ = 0, size_ = 1, storePort_ = 0;
  int64_t timeoutMs_ = 30000;
  std::string storeHost_, prefix_, hostname_, iface_;
  std::shared_ptr<State> st_;
  std::thread thread_;
  int pending_ = 0;
};

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  exports.Set("ProcessGroup", ProcessGroup::Init(env));
  exports.Set("monotonicNs", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), monotonicNs()); }));
  return exports;
}

}  // namespace

NODE_API_MODULE(ingot_gloo, InitAll)

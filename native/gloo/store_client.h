// A gloo::rendezvous::Store that talks to Ingot's TCP store (src/distributed/store.ts, hosted by rank 0).
// The wire format is the one store.ts defines: each request and reply is a frame
//   u32 length (little-endian) | u8 op-or-status | u32 key length | key | value
// and GET waits on the server until the key exists or the timeout passes.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "gloo/rendezvous/store.h"

namespace ingot_gloo {

class TcpStoreClient : public gloo::rendezvous::Store {
 public:
  // prefix is put in front of every key (one per process group, so that keys never collide).
  TcpStoreClient(const std::string& host, int port, const std::string& prefix, std::chrono::milliseconds timeout);
  ~TcpStoreClient() override;

  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  std::vector<char> request(uint8_t op, const std::string& key, const std::vector<char>& value, std::chrono::milliseconds timeout);
  int fd_ = -1;
  std::string host_;
  int port_;
  std::string prefix_;
  std::chrono::milliseconds timeout_;
};

}  // namespace ingot_gloo

#include "store_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace ingot_gloo {

namespace {
// Ops, as in src/distributed/store.ts.
constexpr uint8_t kSet = 1;
constexpr uint8_t kGet = 2;

std::runtime_error storeError(const std::string& host, int port, const std::string& what) {
  return std::runtime_error("TCP store " + host + ":" + std::to_string(port) + ": " + what);
}

void putU32(std::vector<char>& b, uint32_t v) {
  for (int i = 0; i < 4; i++) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t getU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
}  // namespace

TcpStoreClient::TcpStoreClient(const std::string& host, int port, const std::string& prefix, std::chrono::milliseconds timeout)
    : host_(host), port_(port), prefix_(prefix), timeout_(timeout) {
  // Rank 0 may still be starting its store: retry the connection until the timeout, as torch's TCPStore does.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no attempt";
  while (true) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0) {
      last = std::string("cannot resolve the host: ") + gai_strerror(rc);
    } else {
      for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
          fd_ = fd;
          break;
        }
        last = std::string("connect: ") + strerror(errno);
        close(fd);
      }
      freeaddrinfo(res);
    }
    if (fd_ >= 0) break;
    if (std::chrono::steady_clock::now() >= deadline) throw storeError(host, port, "could not connect within " + std::to_string(timeout.count()) + " ms (" + last + "); is rank 0 running and MASTER_ADDR/MASTER_PORT right?");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

TcpStoreClient::~TcpStoreClient() {
  if (fd_ >= 0) close(fd_);
}

std::vector<char> TcpStoreClient::request(uint8_t op, const std::string& key, const std::vector<char>& value, std::chrono::milliseconds timeout) {
  std::string full = prefix_ + key;
  std::vector<char> frame;
  uint32_t body = 1 + 4 + full.size() + value.size();
  putU32(frame, body);
  frame.push_back(static_cast<char>(op));
  putU32(frame, full.size());
  frame.insert(frame.end(), full.begin(), full.end());
  frame.insert(frame.end(), value.begin(), value.end());
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = send(fd_, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw storeError(host_, port_, std::string("send failed: ") + strerror(errno) + " (rank 0 has gone?)");
    }
    off += n;
  }
  // The server answers within the timeout; allow it a little more before giving up on it.
  auto deadline = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(5);
  auto readN = [&](char* dst, size_t len) {
    size_t got = 0;
    while (got < len) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) throw storeError(host_, port_, "no reply for key '" + key + "' within the timeout");
      pollfd p{fd_, POLLIN, 0};
      int pr = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (pr < 0 && errno != EINTR) throw storeError(host_, port_, std::string("poll failed: ") + strerror(errno));
      if (pr <= 0) continue;
      ssize_t n = recv(fd_, dst + got, len - got, 0);
      if (n == 0) throw storeError(host_, port_, "connection closed by the store (rank 0 has exited?)");
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        throw storeError(host_, port_, std::string("recv failed: ") + strerror(errno));
      }
      got += n;
    }
  };
  char head[5];
  readN(head, 5);
  uint32_t len = getU32(head);
  if (len < 1) throw storeError(host_, port_, "malformed reply");
  std::vector<char> payload(len - 1);
  if (!payload.empty()) readN(payload.data(), payload.size());
  if (head[4] != 0) throw storeError(host_, port_, std::string(payload.begin(), payload.end()));
  return payload;
}

void TcpStoreClient::set(const std::string& key, const std::vector<char>& data) {
  request(kSet, key, data, timeout_);
}

std::vector<char> TcpStoreClient::get(const std::string& key) {
  std::vector<char> t;
  putU32(t, static_cast<uint32_t>(timeout_.count()));
  return request(kGet, key, t, timeout_);
}

void TcpStoreClient::wait(const std::vector<std::string>& keys) {
  wait(keys, timeout_);
}

void TcpStoreClient::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& k : keys) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 1) left = std::chrono::milliseconds(1);
    std::vector<char> t;
    putU32(t, static_cast<uint32_t>(left.count()));
    request(kGet, k, t, left);
  }
}

}  // namespace ingot_gloo

#include "ha/etcd_connection.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace pgrt {

Result<std::vector<EtcdEndpoint>> ParseEtcdEndpoints(const std::string& list) {
  std::vector<EtcdEndpoint> out;
  std::string first_url;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string url =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    while (!url.empty() && url.front() == ' ') url.erase(url.begin());
    while (!url.empty() && url.back() == ' ') url.pop_back();
    if (url.empty()) continue;
    EtcdEndpoint e;
    std::string rest;
    if (url.rfind("https://", 0) == 0) {
      e.tls = true;
      rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
      rest = url.substr(7);
    } else {
      return Status::InvalidArgument(url + ": expected http://HOST:PORT or https://HOST:PORT");
    }
    if (!out.empty() && out.front().tls != e.tls)
      return Status::InvalidArgument(first_url + " and " + url +
                                     ": etcd endpoints are all http:// or all https://");
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t colon;
    if (!rest.empty() && rest.front() == '[') {  // [v6]:port
      size_t close = rest.find(']');
      if (close == std::string::npos) return Status::InvalidArgument(url + ": unclosed [");
      e.host = rest.substr(1, close - 1);
      colon = rest.find(':', close);
    } else {
      colon = rest.rfind(':');
      e.host = rest.substr(0, colon);
    }
    if (colon != std::string::npos) {
      const std::string port = rest.substr(colon + 1);
      if (port.empty() || port.size() > 5 ||
          port.find_first_not_of("0123456789") != std::string::npos)
        return Status::InvalidArgument(url + ": bad port");
      e.port = std::stoi(port);
      if (e.port < 1 || e.port > 65535) return Status::InvalidArgument(url + ": bad port");
    }
    if (e.host.empty()) return Status::InvalidArgument(url + ": no host");
    if (out.empty()) first_url = url;
    out.push_back(e);
  }
  if (out.empty()) return Status::InvalidArgument("no etcd endpoint");
  return out;
}

std::string EtcdHostPort(const EtcdEndpoint& e) {
  const std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  return host + ":" + std::to_string(e.port);
}

std::string EtcdUrl(const EtcdEndpoint& e) {
  return (e.tls ? "https://" : "http://") + EtcdHostPort(e);
}

Result<std::unique_ptr<EtcdConnection>> EtcdConnection::Open(event_base* base, evdns_base* dns,
                                                             const EtcdEndpoint& endpoint,
                                                             const EtcdTls* tls) {
  std::unique_ptr<EtcdConnection> c(new EtcdConnection(endpoint));
  const auto port = static_cast<uint16_t>(endpoint.port);
  if (!endpoint.tls) {
    c->conn_ = evhttp_connection_base_new(base, dns, endpoint.host.c_str(), port);
    if (c->conn_ == nullptr) return Status::Unavailable("cannot create a connection");
    return c;
  }
  if (tls == nullptr)
    return Status::FailedPrecondition("an https:// endpoint without TLS set up for it");
  c->notes_.host = endpoint.host;
  auto ssl = tls->NewSsl(c->notes_);
  if (!ssl.ok()) return ssl.status();
  // The bufferevent owns the SSL from here (BEV_OPT_CLOSE_ON_FREE), the connection owns the
  // bufferevent; freeing the connection frees all three.
  bufferevent* bev = bufferevent_openssl_socket_new(
      base, -1, *ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
  if (bev == nullptr) {
    SSL_free(*ssl);
    return Status::Unavailable("cannot create a TLS connection");
  }
  // etcd (Go) may close without a close_notify; HTTP's own framing says where answers end.
  bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  c->conn_ = evhttp_connection_base_bufferevent_new(base, dns, bev, endpoint.host.c_str(), port);
  if (c->conn_ == nullptr) {
    bufferevent_free(bev);
    return Status::Unavailable("cannot create a TLS connection");
  }
  evhttp_connection_set_closecb(c->conn_, &EtcdConnection::OnClose, c.get());
  return c;
}

EtcdConnection::~EtcdConnection() {
  if (conn_ != nullptr) evhttp_connection_free(conn_);
}

void EtcdConnection::OnClose(evhttp_connection*, void* arg) {
  static_cast<EtcdConnection*>(arg)->closed_ = true;
}

std::string EtcdConnection::TlsFailure() const {
  if (!endpoint_.tls) return "";
  if (!notes_.failure.empty()) return notes_.failure;
  // Otherwise the errors the bufferevent took from OpenSSL's queue while reading or writing.
  std::string out;
  bufferevent* bev = evhttp_connection_get_bufferevent(conn_);
  for (unsigned long e; bev != nullptr && (e = bufferevent_get_openssl_error(bev)) != 0;) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

}  // namespace pgrt

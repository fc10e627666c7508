#include "pooler/scram.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <vector>

namespace pgrt {
namespace {

using Bytes = std::vector<unsigned char>;

Result<Bytes> RandomBytes(size_t n) {
  Bytes out(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus("getrandom");
    got += static_cast<size_t>(r);
  }
  return out;
}

std::string Base64(const Bytes& b) {
  std::string out(4 * ((b.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), b.data(),
                          static_cast<int>(b.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Bytes Hmac(const Bytes& key, const std::string& message) {
  Bytes out(SHA256_DIGEST_LENGTH);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return out;
}

}  // namespace

Result<std::string> ScramSecret(const std::string& password, int iterations) {
  for (unsigned char c : password)
    if (c >= 0x80) return Status::Error("SCRAM secret: password must be ASCII");
  auto salt = RandomBytes(16);
  if (!salt.ok()) return salt.status().Wrap("SCRAM secret");
  Bytes salted(SHA256_DIGEST_LENGTH);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt->data(),
                        static_cast<int>(salt->size()), iterations, EVP_sha256(),
                        static_cast<int>(salted.size()), salted.data()) != 1)
    return Status::Error("SCRAM secret: PBKDF2 failed");
  Bytes client_key = Hmac(salted, "Client Key");
  Bytes stored_key(SHA256_DIGEST_LENGTH);
  SHA256(client_key.data(), client_key.size(), stored_key.data());
  Bytes server_key = Hmac(salted, "Server Key");
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + Base64(*salt) + "$" +
         Base64(stored_key) + ":" + Base64(server_key);
}

Result<std::string> RandomHex(size_t bytes) {
  auto raw = RandomBytes(bytes);
  if (!raw.ok()) return raw.status();
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : *raw) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace pgrt

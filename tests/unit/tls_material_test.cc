// Certificate sets as pgrt checks them before serving them (tls/certificate.h), and how their
// copies are installed for postgres and PgBouncer (pgdata/tls_copies.h). Certificates are made
// in memory with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "pgdata/tls_copies.h"
#include "scratch_dir.h"
#include "tls/certificate.h"
#include "tls/openssl_ptr.h"

namespace pgrt {
namespace {

struct Pem {
  std::string cert, key;
};

std::string ToPem(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// A self-signed certificate for `cn`, valid from `from` to `until` seconds from now.
Pem SelfSigned(const std::string& cn, long serial, long from = -60, long until = 86400) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), from);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), until);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_sign(x.get(), key.get(), EVP_sha256());
  BioPtr cert_out(BIO_new(BIO_s_mem())), key_out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_out.get(), x.get());
  PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return {ToPem(cert_out.get()), ToPem(key_out.get())};
}

TlsFiles Write(const test::ScratchDir& dir, const Pem& p, const std::string& ca = "") {
  test::WriteText(dir / "c.crt", p.cert);
  test::WriteText(dir / "c.key", p.key);
  TlsFiles f{dir / "c.crt", dir / "c.key", ""};
  if (!ca.empty()) {
    test::WriteText(dir / "ca.crt", ca);
    f.ca_file = dir / "ca.crt";
  }
  return f;
}

TEST(TlsMaterial, AMatchingCertificateAndKeyLoadWithWhatAnOperatorNeedsToKnow) {
  test::ScratchDir dir;
  const Pem a = SelfSigned("db.example.com", 11);
  auto m = LoadTlsMaterial(Write(dir, a, SelfSigned("ca", 1).cert));
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->leaf.subject, "CN=db.example.com");
  EXPECT_EQ(m->leaf.serial, "0B");
  EXPECT_EQ(m->leaf.sha256.size(), 32u * 3 - 1);
  EXPECT_NEAR(static_cast<double>(m->leaf.not_after), static_cast<double>(::time(nullptr) + 86400),
              5);
  EXPECT_EQ(m->cert_pem, a.cert);
  EXPECT_EQ(m->key_pem, a.key);
  EXPECT_TRUE(CheckNotExpired(m->leaf, std::chrono::system_clock::now()).ok());
}

TEST(TlsMaterial, EachUnusableSetIsRefusedNamingTheFile) {
  test::ScratchDir dir;
  const Pem a = SelfSigned("a", 1), b = SelfSigned("b", 2);

  auto mismatch = LoadTlsMaterial(Write(dir, {a.cert, b.key}));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("does not belong to certificate " + dir / "c.crt"),
            std::string::npos)
      << mismatch.status().message();

  auto garbage = LoadTlsMaterial(Write(dir, {"not a certificate\n", a.key}));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("certificate " + dir / "c.crt"), std::string::npos)
      << garbage.status().message();

  // Half a certificate: a file caught in the middle of being written.
  auto truncated = LoadTlsMaterial(Write(dir, {a.cert.substr(0, a.cert.size() / 2), a.key}));
  EXPECT_FALSE(truncated.ok());

  auto bad_key = LoadTlsMaterial(Write(dir, {a.cert, "-----BEGIN PRIVATE KEY-----\nxx\n"}));
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.status().message().find("key " + dir / "c.key"), std::string::npos);

  auto bad_ca = LoadTlsMaterial(Write(dir, a, "junk\n"));
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_NE(bad_ca.status().message().find("CA " + dir / "ca.crt"), std::string::npos)
      << bad_ca.status().message();

  auto missing = LoadTlsMaterial({dir / "nope.crt", dir / "c.key", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.crt"), std::string::npos);
}

TEST(TlsMaterial, AnExpiredCertificateLoadsButFailsTheExpiryCheck) {
  test::ScratchDir dir;
  auto m = LoadTlsMaterial(Write(dir, SelfSigned("old", 3, -7200, -3600)));
  ASSERT_TRUE(m.ok()) << m.status().message();
  Status st = CheckNotExpired(m->leaf, std::chrono::system_clock::now());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("expired at"), std::string::npos) << st.message();
}

TEST(TlsCopies, ANewSetIsExchangedWithTheCurrentOneByOneRenameAndTheSameSetChangesNothing) {
  test::ScratchDir dir;
  Config c;
  c.pgdata = dir / "data";
  ASSERT_EQ(::mkdir(c.pgdata.c_str(), 0700), 0);
  Credentials me;
  me.uid = ::geteuid();
  me.gid = ::getegid();
  NodeContext ctx{c, NodeLayout::From(c), me, {}};
  const Pem a = SelfSigned("a", 1), b = SelfSigned("b", 2);

  auto first = InstallTlsCopies(ctx, {a.cert, a.key, ""});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(*first);
  EXPECT_EQ(test::ReadText(TlsCertCopy(ctx.layout)), a.cert);
  EXPECT_FALSE(PathExists(TlsCaCopy(ctx.layout)));
  struct stat st {};
  ASSERT_EQ(::stat(TlsKeyCopy(ctx.layout).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::lstat((ctx.layout.tls_dir + "/current").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode)) << "a directory, no link (pgBackRest refuses links into PGDATA)";

  auto again = InstallTlsCopies(ctx, {a.cert, a.key, ""});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);

  auto second = InstallTlsCopies(ctx, {b.cert, b.key, "ca\n"});
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(*second);
  EXPECT_EQ(test::ReadText(TlsCertCopy(ctx.layout)), b.cert);
  EXPECT_EQ(test::ReadText(TlsKeyCopy(ctx.layout)), b.key);
  EXPECT_EQ(test::ReadText(TlsCaCopy(ctx.layout)), "ca\n");
  // Only the current set is left.
  auto entries = ListDirectory(ctx.layout.tls_dir);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(*entries, std::vector<std::string>{"current"});
}

}  // namespace
}  // namespace pgrt

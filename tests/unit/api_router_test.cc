// Router: which route answers a request, and what Screen() refuses before a body is read.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/router.h"

namespace pgrt {
namespace {

std::vector<Route> TestRoutes() {
  auto answer = [](const char* what) {
    return Sync([what](const HttpRequest& req) {
      return HttpResponse::Text(200, std::string(what) + " " + req.path);
    });
  };
  return {
      {"GET", "/health", false, answer("health")},
      {"POST", "/control", true, answer("control")},
      {"POST", "/slot/", true, answer("slot-post")},
      {"DELETE", "/slot/", true, answer("slot-delete")},
  };
}

HttpRequest Request(std::string method, std::string path, std::string authorization = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  if (!authorization.empty()) r.headers.emplace_back("authorization", authorization);
  return r;
}

TEST(ApiRouter, FindsExactAndPrefixRoutesAndTellsUnknownPathsFromWrongMethods) {
  Router router(TestRoutes(), "secret");
  struct Case {
    const char* method;
    const char* path;
    const char* route;  // nullptr: none
    int status;         // when none
  } cases[] = {
      {"GET", "/health", "/health", 0},
      {"HEAD", "/health", "/health", 0},
      {"OPTIONS", "/health", "/health", 0},
      {"POST", "/health", nullptr, 405},
      {"GET", "/health/extra", nullptr, 404},
      {"GET", "/nope", nullptr, 404},
      {"POST", "/slot/my_slot", "/slot/", 0},
      {"DELETE", "/slot/", "/slot/", 0},  // an empty name reaches the handler's validator
      {"POST", "/slot/a/b", nullptr, 404},
      {"GET", "/slot/x", nullptr, 405},
  };
  for (const Case& c : cases) {
    int status = 0;
    const Route* r = router.Find(c.method, c.path, &status);
    if (c.route == nullptr) {
      EXPECT_EQ(r, nullptr) << c.method << " " << c.path;
      EXPECT_EQ(status, c.status) << c.method << " " << c.path;
    } else {
      ASSERT_NE(r, nullptr) << c.method << " " << c.path;
      EXPECT_EQ(std::string(r->path), c.route);
    }
  }
}

TEST(ApiRouter, ScreenRefusesMutatingCallsWithoutAValidTokenBeforeTheBody) {
  Router router(TestRoutes(), "secret");
  auto missing = router.Screen(Request("POST", "/control"));
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 401);
  ASSERT_EQ(missing->headers.size(), 1u);
  EXPECT_EQ(missing->headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(missing->content_type, "application/json");
  auto wrong = router.Screen(Request("POST", "/control", "Bearer nope"));
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->status, 403);
  EXPECT_FALSE(router.Screen(Request("POST", "/control", "Bearer secret")).has_value());
  EXPECT_FALSE(router.Screen(Request("GET", "/health")).has_value()) << "reads need no token";
  auto unknown = router.Screen(Request("GET", "/nope"));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(unknown->body, R"({"error":"not found"})");

  Router closed(TestRoutes(), "");  // no token configured: every mutating call is 403
  auto refused = closed.Screen(Request("POST", "/control", "Bearer anything"));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 403);
}

TEST(ApiRouter, WithAClientCaMutatingCallsNeedAVerifiedCertificateAsWellAsTheToken) {
  Router router(TestRoutes(), "secret", /*client_cert_for_mutating=*/true);
  auto no_cert = router.Screen(Request("POST", "/control", "Bearer secret"));
  ASSERT_TRUE(no_cert.has_value());
  EXPECT_EQ(no_cert->status, 403);
  EXPECT_NE(no_cert->body.find("client certificate"), std::string::npos) << no_cert->body;
  HttpRequest with_cert = Request("POST", "/control", "Bearer secret");
  with_cert.client_cert_verified = true;
  EXPECT_FALSE(router.Screen(with_cert).has_value());
  HttpRequest cert_only = Request("POST", "/control");
  cert_only.client_cert_verified = true;
  auto no_token = router.Screen(cert_only);
  ASSERT_TRUE(no_token.has_value());
  EXPECT_EQ(no_token->status, 401);
  EXPECT_FALSE(router.Screen(Request("GET", "/health")).has_value()) << "reads need neither";
}

TEST(ApiRouter, HandleRunsTheRouteAndErrorsAreJson) {
  Router router(TestRoutes(), "secret");
  HttpResponse got;
  router.Handle(Request("DELETE", "/slot/s1"), [&](HttpResponse r) { got = std::move(r); });
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "slot-delete /slot/s1");
  HttpResponse error = router.Error(413, "request body too large");
  EXPECT_EQ(error.status, 413);
  EXPECT_EQ(error.body, R"({"error":"request body too large"})");
}

}  // namespace
}  // namespace pgrt

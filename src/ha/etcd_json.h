// etcd's v3 JSON gateway on the wire, for EtcdClient's calls (etcd_client.cc) and watches
// (etcd_watch.cc): keys and values are base64, int64 fields are strings (and left out at
// their default), errors are JSON objects with "error", and a refused token has its own
// words. Pure functions of the text given; internal to ha/'s etcd client.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ha/etcd_client.h"
#include "util/status.h"

namespace pgrt::etcd_json {

std::string Base64(const std::string& bytes);
Result<std::string> Unbase64(const std::string& text);

// The int64 field `name` of `j` (a string on the wire, or a number); 0 when it is left out
// (etcd leaves out a field at its default) or is not a number.
int64_t Int(const nlohmann::json& j, const char* name);

// A "kv" of an answer or of a watch event, its key and value decoded.
Result<EtcdKeyValue> KeyValueOf(const nlohmann::json& kv);

// The first key after every key starting with `prefix` (etcd's range_end for a prefix).
std::string PrefixEnd(std::string prefix);

// Whether `answer` (a call's error, a stream's error or a watch's cancellation) says that
// etcd no longer takes the token it was sent with.
bool SaysStaleToken(const nlohmann::json& answer);
// The same of a call's answer as received: an error answer in JSON that says so.
bool IsStaleToken(const Result<std::string>& answer);

// ": <the first line of `text`>", at most 200 bytes of it; "" for an empty text.
std::string Excerpt(const std::string& text);

// A call's answer as a JSON object, or etcd's error in it as an error.
Result<nlohmann::json> ParseAnswer(const Result<std::string>& body);

}  // namespace pgrt::etcd_json

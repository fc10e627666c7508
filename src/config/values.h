// Checks of single values, one per config type. Pure functions of text; no Config here.
// Each Check* returns why the text is wrong ("prefix 33 is out of range 0-32"), or nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgrt {

// `"text"` with quotes, backslashes and control characters escaped, so that every problem
// stays on one line; long values are cut short.
std::string Quote(std::string_view text);

bool HasControlChar(std::string_view text);
std::optional<bool> ParseBool(std::string_view text);

// A decimal integer (optional leading '-'), the whole text. nullopt when not a number;
// values beyond int become INT_MIN/INT_MAX so that the range check reports them.
std::optional<int> ParseInt(std::string_view text);

// Comma-separated items, each trimmed of spaces and tabs; empty items dropped.
std::vector<std::string> SplitList(std::string_view text);

bool IsSize(std::string_view text);
bool IsAbsolutePath(std::string_view text);
bool IsIpAddress(std::string_view text);
std::optional<std::string> CheckCidr(std::string_view item);
bool IsListName(std::string_view item);
std::optional<std::string> CheckCron(std::string_view text);
bool IsPgName(std::string_view text);
bool IsSlotName(std::string_view text);
bool IsOsUser(std::string_view text);
bool IsTimeline(std::string_view text);

}  // namespace pgrt

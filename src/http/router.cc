#include "http/router.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>

#include "base/uri.h"
#include "http/error_response.h"

namespace cairn::http {
namespace {

[[noreturn]] void Die(std::string_view what, Method method, std::string_view pattern) {
  std::fprintf(stderr, "router: %.*s: %.*s %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(MethodName(method).size()), MethodName(method).data(),
               static_cast<int>(pattern.size()), pattern.data());
  std::abort();
}

// Decodes every escape except %2F and %25, which would change the segment structure (or make
// a later decode ambiguous); those stay encoded, upper-cased. Fails on a malformed escape.
StatusOr<std::string> NormalizeForMatch(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  size_t plain_start = 0;
  for (size_t i = path.find('%'); i != std::string_view::npos; i = path.find('%', i + 1)) {
    std::string_view escape = path.substr(i, 3);
    const bool slash = escape == "%2F" || escape == "%2f";
    if (!slash && escape != "%25") continue;
    ASSIGN_OR_RETURN(std::string decoded, PercentDecode(path.substr(plain_start, i - plain_start)));
    out += decoded;
    out += slash ? "%2F" : "%25";
    plain_start = i + 3;
    i += 2;
  }
  ASSIGN_OR_RETURN(std::string rest, PercentDecode(path.substr(plain_start)));
  out += rest;
  return out;
}

// Captures come from a path NormalizeForMatch accepted, so they decode.
std::string DecodeCapture(std::string_view text) {
  if (text.find('%') == std::string_view::npos) return std::string(text);
  auto decoded = PercentDecode(text);
  return decoded.ok() ? std::move(decoded).value() : std::string(text);
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "{name}" -> kOne, "{name...}" -> kRest, anything else -> kLiteral.
enum class SegmentKind { kLiteral, kOne, kRest };

SegmentKind KindOf(std::string_view seg) {
  if (seg.size() < 3 || seg.front() != '{' || seg.back() != '}') return SegmentKind::kLiteral;
  return seg.ends_with("...}") ? SegmentKind::kRest : SegmentKind::kOne;
}

std::string_view CaptureName(std::string_view seg, SegmentKind kind) {
  seg.remove_prefix(1);
  seg.remove_suffix(kind == SegmentKind::kRest ? 4 : 1);
  return seg;
}

bool IsValidPattern(std::string_view pattern, bool* has_captures) {
  *has_captures = false;
  if (pattern.empty() || pattern.front() != '/') return false;
  size_t pos = 1;
  while (true) {
    size_t end = pattern.find('/', pos);
    std::string_view seg = pattern.substr(pos, end == std::string_view::npos ? end : end - pos);
    SegmentKind kind = KindOf(seg);
    if (kind == SegmentKind::kLiteral) {
      if (seg.find_first_of("{}") != std::string_view::npos) return false;
    } else {
      *has_captures = true;
      if (!IsIdentifier(CaptureName(seg, kind))) return false;
      if (kind == SegmentKind::kRest && end != std::string_view::npos) return false;
    }
    if (end == std::string_view::npos) return true;
    pos = end + 1;
  }
}

}  // namespace

namespace {

Route MakeRoute(Method method, std::string pattern, RouteOptions options) {
  Route route;
  route.method = method;
  route.pattern = std::move(pattern);
  route.options = options;
  return route;
}

}  // namespace

void Router::Add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  Route route = MakeRoute(method, std::move(pattern), options);
  route.handler = std::move(handler);
  AddRoute(std::move(route));
}

void Router::AddAsync(Method method, std::string pattern, AsyncHandler handler,
                      RouteOptions options) {
  Route route = MakeRoute(method, std::move(pattern), options);
  route.async_handler = std::move(handler);
  AddRoute(std::move(route));
}

void Router::AddStreaming(Method method, std::string pattern, StreamingHandler handler,
                          RouteOptions options) {
  Route route = MakeRoute(method, std::move(pattern), options);
  route.streaming_handler = std::move(handler);
  AddRoute(std::move(route));
}

void Router::AddRoute(Route route) {
  bool has_captures = false;
  if (!IsValidPattern(route.pattern, &has_captures)) {
    Die("malformed route pattern", route.method, route.pattern);
  }
  if (!route.handler && !route.async_handler && !route.streaming_handler) {
    Die("route without a handler", route.method, route.pattern);
  }
  for (const auto& existing : routes_) {
    if (existing->method == route.method && existing->pattern == route.pattern) {
      Die("duplicate route", route.method, route.pattern);
    }
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  const Route* added = routes_.back().get();
  if (has_captures) {
    patterned_.push_back(added);
  } else {
    literal_[added->pattern].push_back(added);
  }
}

Router::Match Router::Find(Method method, std::string_view path) const {
  Match match;
  std::string normalized;
  std::string_view match_path = path;
  if (path.find('%') != std::string_view::npos) {
    StatusOr<std::string> decoded = NormalizeForMatch(path);
    if (!decoded.ok()) return match;  // a malformed escape matches no route
    normalized = std::move(decoded).value();
    match_path = normalized;
  }

  bool other_method = false;
  if (auto it = literal_.find(match_path); it != literal_.end()) {
    for (const Route* route : it->second) {
      if (route->method == method) {
        match.route = route;
        return match;
      }
    }
    other_method = !it->second.empty();
  }
  for (const Route* route : patterned_) {
    if (route->method == method) {
      if (MatchPattern(route->pattern, match_path, &match.params)) {
        match.route = route;
        return match;
      }
      match.params.clear();
    } else if (!other_method) {
      other_method = MatchPattern(route->pattern, match_path, nullptr);
    }
  }
  match.method_not_allowed = other_method;
  return match;
}

bool Router::MatchPattern(std::string_view pattern, std::string_view path,
                          std::map<std::string, std::string, std::less<>>* params) {
  auto capture = [&](std::string_view seg, SegmentKind kind, std::string_view value) {
    if (params != nullptr)
      params->insert_or_assign(std::string(CaptureName(seg, kind)), DecodeCapture(value));
  };
  size_t pi = 0;
  size_t xi = 0;
  while (true) {
    size_t pe = pattern.find('/', pi);
    std::string_view seg =
        pattern.substr(pi, pe == std::string_view::npos ? std::string_view::npos : pe - pi);
    SegmentKind kind = KindOf(seg);
    if (kind == SegmentKind::kRest) {
      capture(seg, kind, path.substr(xi));
      return true;
    }
    size_t xe = path.find('/', xi);
    std::string_view part =
        path.substr(xi, xe == std::string_view::npos ? std::string_view::npos : xe - xi);
    if (kind == SegmentKind::kOne) {
      if (part.empty()) return false;
      capture(seg, kind, part);
    } else if (seg != part) {
      return false;
    }
    if (pe == std::string_view::npos) return xe == std::string_view::npos;
    if (xe == std::string_view::npos) {
      // The path ended; only a final "{rest...}" may still match (empty).
      std::string_view remaining = pattern.substr(pe + 1);
      if (remaining.find('/') != std::string_view::npos ||
          KindOf(remaining) != SegmentKind::kRest) {
        return false;
      }
      capture(remaining, SegmentKind::kRest, std::string_view());
      return true;
    }
    pi = pe + 1;
    xi = xe + 1;
  }
}

std::vector<const Route*> Router::AllRoutes() const {
  std::vector<const Route*> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back(route.get());
  return out;
}

std::vector<std::pair<Method, std::string>> Router::Routes() const {
  std::vector<std::pair<Method, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.emplace_back(route->method, route->pattern);
  return out;
}

namespace {

// The Completion behind CallRouteForTest's Responders: the first answer fulfils the promise.
class TestCompletion final : public Responder::Completion {
 public:
  std::future<Response> Answer() { return promise_.get_future(); }
  void Complete(Response response) override {
    if (!answered_.exchange(true)) promise_.set_value(std::move(response));
  }
  ~TestCompletion() override {
    if (!answered_.exchange(true)) promise_.set_value(ErrorResponse(Internal("no answer")));
  }

 private:
  std::promise<Response> promise_;
  std::atomic<bool> answered_{false};
};

}  // namespace

Response CallRouteForTest(const Router& router, Request request) {
  const std::string target = request.target;
  const size_t question = target.find('?');
  const std::string raw_path = target.substr(0, question);
  auto decoded = PercentDecode(raw_path);
  if (!decoded.ok()) {
    return ErrorResponse(InvalidArgument("malformed percent-encoding in request path"));
  }
  request.path = std::move(decoded).value();
  if (question != std::string::npos) {
    auto query = ParseQueryString(std::string_view(target).substr(question + 1));
    if (!query.ok()) return ErrorResponse(query.status());
    request.query = std::move(query).value();
  }
  Router::Match match = router.Find(request.method, raw_path);
  if (match.route == nullptr || (!match.route->handler && !match.route->async_handler)) {
    return match.method_not_allowed ? MethodNotAllowed(MethodName(request.method), target)
                                    : EndpointNotFound(MethodName(request.method), target);
  }
  request.path_params = std::move(match.params);
  request.route_pattern = match.route->pattern;
  if (match.route->handler) return match.route->handler(request);
  auto completion = std::make_shared<TestCompletion>();
  std::future<Response> answer = completion->Answer();
  match.route->async_handler(request, Responder(std::move(completion)));
  return answer.get();
}

}  // namespace cairn::http

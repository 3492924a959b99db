#include "server/api_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <regex>

#include "core/random_hex.h"
#include "core/request_deadline.h"
#include "core/secret.h"
#include "core/utc_time.h"
#include "server/http_error.h"
#include "server/json_body.h"
#include "server/rate_limiter.h"

namespace facecrowd {
namespace {

std::mutex g_log_mutex;

std::string path_regex(const std::string& templ) {
  static const std::regex param(R"(\{[A-Za-z0-9_]+\})");
  std::string escaped = std::regex_replace(templ, std::regex(R"([.])"), R"(\.)");
  return std::regex_replace(escaped, param, "([^/]+)");
}

void write_error(httplib::Response& res, const HttpError& e, const std::string& request_id) {
  res.status = e.status;
  if (e.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(e.retry_after_seconds));
  if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
  nlohmann::json body = {{"error", e.code}, {"detail", e.what()}};
  if (!request_id.empty()) body["requestId"] = request_id;
  res.set_content(body.dump(), "application/json");
}

bool role_allowed(unsigned access, const std::optional<Principal>& who) {
  if (access & kAnonymous) return true;
  if (!who) return false;
  switch (who->role) {
    case Role::kAdmin: return access & kAdmin;
    case Role::kOperator: return access & kOperator;
    case Role::kViewer: return access & kViewer;
    case Role::kCamera: return access & kCamera;
  }
  return false;
}

std::string valid_request_id(const std::string& given) {
  if (given.empty() || given.size() > 64) return "";
  for (char c : given)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return "";
  return given;
}

}  // namespace

HttpError http_error_from(const Error& e) {
  if (dynamic_cast<const DeadlineExceeded*>(&e)) return HttpError(503, "deadline_exceeded", e.what(), 5);
  switch (e.code()) {
    case ExitCode::kUsage:
    case ExitCode::kBadInput: return HttpError(400, "bad_request", e.what());
    case ExitCode::kNotFound: return HttpError(404, "not_found", e.what());
    case ExitCode::kConflict: return HttpError(409, "conflict", e.what());
    case ExitCode::kBusy: return HttpError(503, "busy", e.what(), 5);
    case ExitCode::kIo:
      if (std::string(e.what()).find("No space") != std::string::npos || std::string(e.what()).find("disk full") != std::string::npos)
        return HttpError(507, "insufficient_storage", e.what());
      return HttpError(500, "io_error", e.what());
    default: return HttpError(500, "internal", e.what());
  }
}

std::optional<std::string> Call::query(const std::string& name) const {
  if (!req.has_param(name.c_str())) return std::nullopt;
  return req.get_param_value(name.c_str());
}

std::string Call::path_param(size_t index) const {
  return index < req.matches.size() ? std::string(req.matches[index]) : std::string();
}

nlohmann::json Call::json_body() const {
  auto j = parse_json_body(req.body, config.max_json_depth);
  if (!j.is_object()) throw HttpError(400, "bad_json", "the request body must be a JSON object");
  return j;
}

void Call::reply(int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

ApiServer::ApiServer(Service& service, ServerConfig config)
    : service_(service), config_(std::move(config)), routes_(api_routes()), openapi_(openapi_document(routes_)),
      http_(std::make_unique<httplib::Server>()) {
  per_address_ = std::make_unique<RateLimiter>(config_.rate_per_address_per_minute,
                                               std::max(20, config_.rate_per_address_per_minute / 6));
  per_principal_ = std::make_unique<RateLimiter>(config_.rate_per_token_per_minute,
                                                 std::max(10, config_.rate_per_token_per_minute / 6));
  login_per_address_ = std::make_unique<RateLimiter>(config_.login_per_address_per_minute,
                                                     std::max(3, config_.login_per_address_per_minute / 4));
  id_prefix_ = random_hex(4);

  auto& h = *http_;
  const int threads = config_.threads;
  h.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  h.set_payload_max_length(size_t(config_.max_body_bytes));
  h.set_read_timeout(config_.read_timeout_seconds, 0);
  h.set_write_timeout(config_.write_timeout_seconds, 0);
  h.set_keep_alive_timeout(config_.keep_alive_seconds);
  h.set_keep_alive_max_count(1000);
  // httplib writes a response's headers and body separately: with Nagle's algorithm on, the body waits for
  // the client's delayed ACK of the headers (~40 ms on Linux), which capped /health at ~350 req/s.
  h.set_tcp_nodelay(true);
  for (const auto& route : routes_) {
    auto handler = [this, &route](const httplib::Request& req, httplib::Response& res) { handle(route, req, res); };
    std::string pattern = path_regex(route.path);
    if (route.method == "GET") h.Get(pattern, handler);
    else if (route.method == "POST") h.Post(pattern, handler);
    else if (route.method == "PATCH") h.Patch(pattern, handler);
    else if (route.method == "DELETE") h.Delete(pattern, handler);
    else if (route.method == "PUT") h.Put(pattern, handler);
  }
  // Answers httplib gives itself (no such route, body too large, bad request line) become JSON too.
  h.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    HttpError e(res.status, "error", "request refused");
    if (res.status == 404) e = HttpError(404, "no_route", "no route " + req.method + " " + req.path + " (see /api/openapi.json)");
    else if (res.status == 413) e = HttpError(413, "too_large", "the request body is larger than " + std::to_string(config_.max_body_bytes) + " bytes");
    else if (res.status == 400) e = HttpError(400, "bad_request", "the request could not be parsed");
    else if (res.status == 405) e = HttpError(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
    write_error(res, e, "");
    log_request(req, res.status, 0, "", "");
    return httplib::Server::HandlerResponse::Handled;
  }));
}

ApiServer::~ApiServer() = default;

int ApiServer::bind() {
  int port = config_.port == 0 ? http_->bind_to_any_port(config_.bind)
                               : (http_->bind_to_port(config_.bind, config_.port) ? config_.port : -1);
  if (port < 0)
    throw Error(ExitCode::kIo, "serve: cannot listen on " + config_.bind + ":" + std::to_string(config_.port) +
                                   " (in use, or not an address of this machine); pick another with --port/--bind");
  config_.port = port;
  return port;
}

void ApiServer::run() { http_->listen_after_bind(); }
void ApiServer::stop() { http_->stop(); }

void ApiServer::log_request(const httplib::Request& req, int status, double ms, const std::string& request_id,
                            const std::string& actor) {
  nlohmann::json line = {{"time", format_iso8601(now_millis())},
                         {"level", status >= 500 ? "error" : (status >= 400 ? "warn" : "info")},
                         {"msg", "request"},
                         {"requestId", request_id},
                         {"method", req.method},
                         {"path", req.path},
                         {"status", status},
                         {"ms", std::round(ms * 100) / 100},
                         {"client", req.remote_addr}};
  if (!actor.empty()) line["actor"] = actor;
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(g_log_mutex);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void ApiServer::handle(const Route& route, const httplib::Request& req, httplib::Response& res) {
  const auto started = std::chrono::steady_clock::now();
  std::string request_id = valid_request_id(req.get_header_value("X-Request-Id"));
  if (request_id.empty()) request_id = id_prefix_ + "-" + std::to_string(next_request_++);
  res.set_header("X-Request-Id", request_id);
  Call call{req, res, service_, config_, request_id, std::nullopt, Actor{"anonymous", req.remote_addr}, login_per_address_.get()};
  const bool is_health = route.path == "/health";
  try {
    if (!is_health) {
      if (int wait = per_address_->take(req.remote_addr))
        throw HttpError(429, "rate_limited", "too many requests from " + req.remote_addr + "; slow down", wait);
    }
    // Wiped when this scope ends, whether authentication succeeds, fails or throws.
    const Secret bearer(req.get_header_value("Authorization"));
    const Secret key(req.get_header_value("X-API-Key"));
    const bool has_bearer = bearer.reveal().rfind("Bearer ", 0) == 0;
    // Credentials are checked against the store, so inside the restore gate; a route that does not use
    // the store (logout, restore itself) leaves the gate again before its handler runs.
    const bool authenticate = !(route.access & kAnonymous) || (route.uses_store && (has_bearer || !key.empty()));
    std::optional<RestoreGate::Pass> pass;
    if (route.uses_store || authenticate) {
      pass = service_.enter();
      if (!pass) throw HttpError(503, "restoring", "a restore is swapping the store; try again shortly", 5);
    }
    if (authenticate) {
      if (has_bearer) {
        const Secret token(bearer.reveal().substr(7));
        call.who = service_.authenticate_token(token.reveal());
      } else if (!key.empty()) {
        call.who = service_.authenticate_key(key.reveal());
        if (!call.who)
          service_.audit_failure(call.actor, "auth.key", "", {{"reason", "unknown or revoked API key"}, {"path", req.path}});
      }
      if (!call.who && !(route.access & kAnonymous))
        throw HttpError(401, "unauthorized",
                        has_bearer || !key.empty() ? "the token or API key is not valid (expired, revoked or unknown); log in again"
                                                   : "log in (POST /api/v1/auth/login) and send Authorization: Bearer TOKEN, or X-API-Key");
    }
    if (call.who) call.actor.id = call.who->actor_id();
    if (!role_allowed(route.access, call.who)) {
      service_.audit_failure(call.actor, "access.denied", req.path, {{"method", req.method}, {"role", to_string(call.who->role)}});
      throw HttpError(403, "forbidden", "the role '" + to_string(call.who->role) + "' may not " + route.method + " " + route.path);
    }
    if (call.who) {
      if (int wait = per_principal_->take(call.actor.id))
        throw HttpError(429, "rate_limited", "too many requests for this token; slow down", wait);
    }
    if (!route.uses_store) pass.reset();
    const DeadlineScope deadline(started, std::chrono::milliseconds(config_.request_timeout_ms));
    route.handler(call);
  } catch (const HttpError& e) {
    write_error(res, e, request_id);
  } catch (const Error& e) {
    write_error(res, http_error_from(e), request_id);
    if (res.status == 500) {  // the cause goes to the log, not to the client
      write_error(res, HttpError(res.status, "internal", "internal error, request " + request_id), request_id);
      std::lock_guard lock(g_log_mutex);
      std::cout << nlohmann::json{{"level", "error"}, {"requestId", request_id}, {"msg", e.what()}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    }
  } catch (const std::exception& e) {
    write_error(res, HttpError(500, "internal", "internal error, request " + request_id), request_id);
    std::lock_guard lock(g_log_mutex);
    std::cout << nlohmann::json{{"level", "error"}, {"requestId", request_id}, {"msg", e.what()}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
  if (!is_health || config_.log_health)
    log_request(req, res.status, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count(),
                request_id, call.who ? call.actor.id : "");
}

nlohmann::json openapi_document(const std::vector<Route>& routes) {
  nlohmann::json paths = nlohmann::json::object();
  static const std::regex param(R"(\{([A-Za-z0-9_]+)\})");
  for (const auto& r : routes) {
    nlohmann::json op = {{"summary", r.summary}};
    std::vector<std::string> roles;
    if (r.access & kAnonymous) roles.push_back("anonymous");
    if (r.access & kAdmin) roles.push_back("admin");
    if (r.access & kOperator) roles.push_back("operator");
    if (r.access & kViewer) roles.push_back("viewer");
    if (r.access & kCamera) roles.push_back("camera");
    op["x-roles"] = roles;
    if (!(r.access & kAnonymous)) op["security"] = {{{"bearer", nlohmann::json::array()}}, {{"apiKey", nlohmann::json::array()}}};
    auto params = nlohmann::json::array();
    for (auto it = std::sregex_iterator(r.path.begin(), r.path.end(), param); it != std::sregex_iterator(); ++it)
      params.push_back({{"name", (*it)[1].str()}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    for (const auto& q : r.query)
      params.push_back({{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
    if (!params.empty()) op["parameters"] = params;
    if (!r.body.empty()) {
      nlohmann::json props = nlohmann::json::object();
      for (auto f : r.fields) {
        bool file = f.size() > 2 && f.substr(f.size() - 2) == "[]";
        if (file) f.resize(f.size() - 2);
        const std::string boolean_suffix = ":boolean";
        bool boolean = f.size() > boolean_suffix.size() && f.ends_with(boolean_suffix);
        if (boolean) f.resize(f.size() - boolean_suffix.size());
        props[f] = file      ? nlohmann::json{{"type", "array"}, {"items", {{"type", "string"}, {"format", "binary"}}}}
                   : boolean ? nlohmann::json{{"type", "boolean"}}
                             : nlohmann::json{{"type", "string"}};
      }
      std::string type = r.body == "multipart" ? "multipart/form-data" : "application/json";
      op["requestBody"] = {{"required", true}, {"content", {{type, {{"schema", {{"type", "object"}, {"properties", props}}}}}}}};
    }
    nlohmann::json error_ref = {{"$ref", "#/components/responses/Error"}};
    op["responses"] = {{"200", {{"description", "OK"}, {"content", {{r.produces, {{"schema", {{"type", r.produces == "application/json" ? "object" : "string"}}}}}}}}},
                       {"400", error_ref}, {"429", error_ref}, {"503", error_ref}};
    if (!(r.access & kAnonymous)) {
      op["responses"]["401"] = error_ref;
      op["responses"]["403"] = error_ref;
    }
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    paths[r.path][method] = op;
  }
  nlohmann::json error_schema = {{"type", "object"},
                                 {"properties", {{"error", {{"type", "string"}}}, {"detail", {{"type", "string"}}}}}};
  nlohmann::json components;
  components["securitySchemes"]["bearer"] = {{"type", "http"}, {"scheme", "bearer"}};
  components["securitySchemes"]["apiKey"] = {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}};
  components["responses"]["Error"] = {{"description", "An error"}};
  components["responses"]["Error"]["content"]["application/json"]["schema"] = error_schema;
  nlohmann::json doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", "facecrowd"}, {"version", FACECROWD_VERSION},
                 {"description", "Face recognition, attendance and crowd counting with backups. Errors are "
                                 "{\"error\": code, \"detail\": text}."}};
  doc["paths"] = paths;
  doc["components"] = components;
  return doc;
}

}  // namespace facecrowd

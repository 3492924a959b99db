// The HTTP front end of the Service (`facecrowd serve`), on Debian's cpp-httplib with a thread pool.
//
// Contract:
//  - Routes are one table (api_routes.cpp): method, path template, who may call it, whether it uses the
//    store, its OpenAPI description and its handler. The same table registers the handlers and writes
//    `GET /api/openapi.json` (OpenAPI 3.0, with `x-roles` per operation), so the two cannot drift.
//  - Who: `Authorization: Bearer TOKEN` (a session from POST /api/v1/auth/login) or `X-API-Key: KEY` (a
//    camera). Roles: admin, operator, viewer (people) and camera (keys: recognize and crowd uploads only).
//    No credentials: 401; valid credentials without the role: 403 (audited as access.denied).
//  - Every error is JSON {"error": code, "detail": text} with its status (http_error.h); an internal error
//    (500) says only "internal error, request <id>" and logs the cause.
//  - Limits: body size (413 before the body is read), files per upload, JSON depth, image megapixels (400),
//    per-address and per-principal rate limits (429 + Retry-After; /health exempt), read/write timeouts
//    against slow clients.
//  - A request that uses the store enters the Service's restore gate; during a restore's swap it gets 503
//    with Retry-After.
//  - One JSON log line per request on stdout: time, requestId (X-Request-Id, echoed), method, path (no
//    query string: it may name people), status, ms, client, actor. Never a header, token or body.
//  - stop() stops accepting; the requests in flight finish before run() returns.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/service.h"
#include "server/server_config.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace facecrowd {

class RateLimiter;

// Who may call a route: a bit set.
enum Access : unsigned {
  kAnonymous = 1,
  kViewer = 2,
  kOperator = 4,
  kAdmin = 8,
  kCamera = 16,
};
inline constexpr unsigned kPeople = kViewer | kOperator | kAdmin;
inline constexpr unsigned kStaff = kOperator | kAdmin;

struct Call;

struct Route {
  std::string method;  // GET POST PATCH DELETE
  std::string path;    // OpenAPI template: /api/v1/people/{id}
  std::string summary;
  unsigned access = 0;
  bool uses_store = true;
  std::vector<std::string> query;     // documented query parameters
  std::string body;                   // "", "json" or "multipart"
  std::vector<std::string> fields;    // documented body fields (multipart: file fields end in "[]"; a
                                      // ":boolean" suffix documents true/false, otherwise a string)
  std::string produces = "application/json";
  std::function<void(Call&)> handler;
};

// One request being served.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  Service& service;
  const ServerConfig& config;
  std::string request_id;
  std::optional<Principal> who;
  Actor actor;
  RateLimiter* login_limiter = nullptr;

  std::optional<std::string> query(const std::string& name) const;
  std::string path_param(size_t index) const;  // the index-th {param} of the path (1-based)
  nlohmann::json json_body() const;            // bounded (json_body.h); 400 when not an object
  void reply(int status, const nlohmann::json& body);
};

std::vector<Route> api_routes();

class ApiServer {
 public:
  ApiServer(Service& service, ServerConfig config);
  ~ApiServer();
  // Binds config.bind:config.port (0: any free port); returns the port. Error(kIo) when it cannot.
  int bind();
  void run();   // serves until stop()
  void stop();
  const nlohmann::json& openapi() const { return openapi_; }

 private:
  void handle(const Route& route, const httplib::Request& req, httplib::Response& res);
  void log_request(const httplib::Request& req, int status, double ms, const std::string& request_id,
                   const std::string& actor);

  Service& service_;
  ServerConfig config_;
  std::vector<Route> routes_;
  nlohmann::json openapi_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<RateLimiter> per_address_, per_principal_, login_per_address_;
  std::atomic<uint64_t> next_request_{1};
  std::string id_prefix_;
};

nlohmann::json openapi_document(const std::vector<Route>& routes);

}  // namespace facecrowd

// `facecrowd serve`: the HTTP service (server/api_server.h) over one Service (app/service.h).
#include <signal.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "app/service.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/private_mode.h"
#include "core/process_hardening.h"
#include "core/utc_time.h"
#include "server/api_server.h"
#include "server/server_config.h"

namespace facecrowd {
namespace {

void log_line(const nlohmann::json& j) {
  nlohmann::json line = {{"time", format_iso8601(now_millis())}, {"level", "info"}};
  line.update(j);
  std::cout << line.dump() << std::endl;
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::optional<int> port;
    std::optional<std::string> bind, config;
    bool print_config = false, print_openapi = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Run the HTTP service: the REST API under /api/v1 (OpenAPI: /api/openapi.json), /health and\n"
      "/api/monitoring/health, on 127.0.0.1:5000 by default.\n"
      "Settings: documented defaults, then --config FILE (JSON; see src/server/server_config.h), then the\n"
      "environment (FACECROWD_PORT, FACECROWD_BIND, FACECROWD_THREADS, FACECROWD_MAX_BODY_BYTES, ...), then\n"
      "these flags. There is no default account: create the first admin with\n"
      "  printf '%s\\n' \"$PASSWORD\" | facecrowd users add admin --role admin --password-stdin\n"
      "Logs are JSON lines on stdout, one per request, with a request id. SIGTERM (or Ctrl-C) stops accepting,\n"
      "finishes the requests in flight and exits 0.\n"
      "The data and backup directories must be private (0700 folders, 0600 files): serve refuses to start\n"
      "(exit 6) on one that group or others can read and names the chmod that fixes it; to run anyway, set\n"
      "\"allowSharedPermissions\": true in the config file (or FACECROWD_ALLOW_SHARED_PERMISSIONS=1).\n\n"
      "Examples:\n"
      "  facecrowd serve\n"
      "  facecrowd serve --port 8080 --bind 0.0.0.0 --config /etc/facecrowd/serve.json\n"
      "  facecrowd serve --print-config > serve.json   # every setting with its value");
  cmd->add_option("--port", opts->port, "TCP port (0: any free port, logged at start); default 5000");
  cmd->add_option("--bind", opts->bind, "address to listen on; default 127.0.0.1 (0.0.0.0: every interface)");
  cmd->add_option("--config", opts->config, "JSON config file (every key optional)");
  cmd->add_flag("--print-config", opts->print_config, "print the resolved settings as JSON and exit");
  cmd->add_flag("--print-openapi", opts->print_openapi, "print the OpenAPI 3 document (as /api/openapi.json serves it) and exit");
  cmd->callback([opts, &globals, &app] {
    if (opts->print_openapi) {
      std::cout << openapi_document(api_routes()).dump(2) << "\n";
      return;
    }
    ServerConfig config;
    bool data_given = app.get_option("--data")->count() > 0 || std::getenv("FACECROWD_DATA");
    bool backup_given = app.get_option("--backup-dir")->count() > 0 || std::getenv("FACECROWD_BACKUP_DIR");
    if (opts->config) apply_config_file(config, *opts->config);
    if (data_given || !opts->config) config.data = globals.data_dir;
    if (backup_given || !opts->config) config.backup_dir = globals.backup_dir;
    if (!globals.models_dir.empty()) config.models = globals.models_dir;
    apply_config_environment(config);
    if (!globals.face_model.empty()) config.face_model = globals.face_model;
    if (opts->port) config.port = *opts->port;
    if (opts->bind) config.bind = *opts->bind;
    validate_config(config);
    if (opts->print_config) {
      std::cout << config.to_json().dump(2) << "\n";
      return;
    }
    // Secrets pass through this process's memory (passwords, session tokens, API keys): no core dump may
    // write it to disk, and no other process may ptrace it (issue 15.3).
    disable_core_dumps();
    // The data and backup directories hold biometric data: refuse to serve from one that others can read,
    // unless the operator wrote down that they want to (issue 15.1; server/server_config.h).
    const std::vector<std::filesystem::path> private_roots{config.data, config.backup_dir};
    if (config.allow_shared_permissions) {
      auto exposed = find_exposed_paths(private_roots);
      if (!exposed.empty())
        log_line({{"level", "warn"},
                  {"msg", "the data or backup directory is open to other users; starting anyway because "
                          "allowSharedPermissions is set"},
                  {"detail", describe_exposed_paths(private_roots, exposed)}});
    } else {
      require_private_paths(private_roots, false, kAllowSharedPermissionsOption);
    }
    // Signals are taken by one thread (sigwait), so every worker thread starts with them blocked.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    ServiceOptions so;
    so.data_root = config.data;
    so.backup_dir = config.backup_dir;
    if (config.models) so.models_dir = std::filesystem::path(*config.models);
    so.db = config.db;
    so.detector = config.detector;
    so.face_model = vision::parse_face_model(config.face_model, "faceModel");
    so.match = config.match_policy();
    so.image_limits.max_megapixels = config.max_image_megapixels;
    so.session_seconds = int64_t(config.session_hours) * 3600;
    so.login_max_failures = config.login_max_failures;
    so.lockout_seconds = int64_t(config.lockout_minutes) * 60;
    so.compute_slots = config.compute_slots;
    Service service(so);
    if (!service.face_models_problem().empty())
      log_line({{"level", "warn"}, {"msg", "face models not loaded: face routes answer errors"}, {"detail", service.face_models_problem()}});
    else if (auto w = service.gallery_model_warning())
      log_line({{"level", "warn"}, {"msg", "profiles recognition cannot find"}, {"detail", *w}});
    if (!service.image_codecs_problem().empty())
      log_line({{"level", "warn"}, {"msg", "image codecs not loaded: photo routes answer errors"}, {"detail", service.image_codecs_problem()}});
    ApiServer server(service, config);
    int port = server.bind();
    log_line({{"msg", "listening"}, {"bind", config.bind}, {"port", port}, {"data", config.data},
              {"threads", config.threads}, {"computeSlots", service.compute_slots().capacity()},
              {"requestTimeoutMs", config.request_timeout_ms}, {"galleryEmbeddings", service.gallery_embeddings()}});
    std::atomic<bool> signalled{false};
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&signals, &sig);
      signalled = true;
      log_line({{"msg", "stopping: finishing requests in flight"}, {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      server.stop();
    });
    server.run();
    // run() returned because of a signal, or because listening failed: make sure the waiter ends.
    if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    log_line({{"msg", "stopped"}});
  });
});

}  // namespace
}  // namespace facecrowd

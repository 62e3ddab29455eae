// `ppd generate`: one prompt through the engine, streaming the text as it is produced.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ppd/cli/commands.h"
#include "ppd/cli/precision_flags.h"
#include "ppd/common/clock.h"
#include "ppd/engine/engine.h"
#include "ppd/model/model_source.h"
#include "ppd/tokenizer/chat_template.h"
#include "ppd/tokenizer/incremental_detokenizer.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::cli {
namespace {

struct GenerateFlags {
  std::string model;
  std::string prompt;
  int max_tokens = 128;
  double temperature = 0.0;
  int top_k = 0;
  double top_p = 1.0;
  std::optional<uint64_t> seed;
  bool ignore_eos = false;
  bool chat = false;
  std::string chat_template = "auto";
  int threads = 1;
  std::string kernels = "auto";
  std::string dtype = "auto";
  std::string quantize = "none";
  std::string kv_dtype = "auto";
};

Result<std::vector<TokenId>> prompt_tokens(const GenerateFlags& f, const tokenizer::Tokenizer& tok) {
  if (!f.chat) return tok.encode(f.prompt, {.add_bos = tok.add_bos_token()});
  PPD_ASSIGN_OR_RETURN(const tokenizer::ChatTemplateKind kind, tokenizer::select_chat_template(f.chat_template, tok));
  const std::vector<tokenizer::ChatMessage> messages = {{"user", f.prompt}};
  PPD_ASSIGN_OR_RETURN(
      const std::string text,
      tokenizer::render_chat(kind, messages, {.add_generation_prompt = true, .bos_token = tok.bos_token()}));
  return tok.encode(text, {.add_bos = false});
}

// Bytes of the model's *.safetensors files.
int64_t checkpoint_file_bytes(const std::string& dir) {
  int64_t bytes = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".safetensors") bytes += static_cast<int64_t>(entry.file_size(error));
  }
  return bytes;
}

// The weights' format and measured resident size next to the checkpoint files' size.
void report_weight_memory(const engine::Engine& engine, const std::string& dir) {
  const int64_t resident = engine.loaded_weight_resident_bytes();
  const int64_t files = checkpoint_file_bytes(dir);
  constexpr double kMiB = 1 << 20;
  std::string line = fmt::format("ppd: weights {}: ", weight_format_name(engine.weight_format()));
  line += resident < 0 ? "resident size unknown" : fmt::format("{:.1f} MiB resident", resident / kMiB);
  line += fmt::format(" (memory grown while loading); checkpoint files {:.1f} MiB", files / kMiB);
  if (resident >= 0 && files > 0) line += fmt::format("; ratio {:.3f}", static_cast<double>(resident) / files);
  std::cerr << line << "\n";
}

Status run_generate(const GenerateFlags& f) {
  PPD_ASSIGN_OR_RETURN(const std::string dir, model::resolve_model_arg(f.model));
  PPD_ASSIGN_OR_RETURN(const tokenizer::Tokenizer tok, tokenizer::Tokenizer::load(dir));
  PPD_ASSIGN_OR_RETURN(std::vector<TokenId> prompt, prompt_tokens(f, tok));
  SteadyClock clock;
  engine::EngineOptions options;
  options.num_threads = f.threads;
  options.kernels = f.kernels;
  options.dtype = f.dtype;
  options.quantize = f.quantize;
  options.kv_dtype = f.kv_dtype;
  options.kv_cache_bytes = int64_t{256} << 20;
  PPD_ASSIGN_OR_RETURN(auto engine, engine::Engine::create(dir, options, &clock));
  request::SamplingParams params;
  params.temperature = f.temperature;
  params.top_k = f.top_k;
  params.top_p = f.top_p;
  params.seed = f.seed;
  params.ignore_eos = f.ignore_eos;
  const int room = engine->max_model_len() - static_cast<int>(prompt.size());
  params.max_tokens = room > 0 ? std::min(f.max_tokens, room) : f.max_tokens;
  const int num_prompt = static_cast<int>(prompt.size());
  PPD_RETURN_IF_ERROR(engine->add_request({.prompt = std::move(prompt), .params = params}).status());
  report_weight_memory(*engine, dir);

  tokenizer::IncrementalDetokenizer detok(tok, {.skip_special_tokens = true});
  const int64_t start_ns = clock.now_ns();
  int64_t first_token_ns = 0;
  int num_output = 0;
  while (engine->has_unfinished()) {
    for (const engine::RequestOutput& out : engine->step().outputs) {
      if (num_output++ == 0) first_token_ns = clock.now_ns();
      std::cout << detok.push(out.token) << std::flush;
    }
  }
  std::cout << detok.flush() << std::endl;
  const double total_s = static_cast<double>(clock.now_ns() - start_ns) * 1e-9;
  const double decode_s = static_cast<double>(clock.now_ns() - first_token_ns) * 1e-9;
  std::cerr << fmt::format(
      "ppd: {} prompt tokens, {} output tokens; TTFT {:.1f} ms, decode {:.1f} tokens/s, total {:.2f} s\n", num_prompt,
      num_output, static_cast<double>(first_token_ns - start_ns) * 1e-6,
      num_output > 1 ? (num_output - 1) / decode_s : 0.0, total_s);
  return Status::Ok();
}

}  // namespace

void register_generate_command(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<GenerateFlags>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text for one prompt, streaming it to stdout");
  cmd->add_option("--model", flags->model, "Model directory (HF layout) or preset: tiny, small, medium")->required();
  cmd->add_option("--prompt", flags->prompt, "Prompt text (default: empty, i.e. BOS only)");
  cmd->add_option("--max-tokens", flags->max_tokens, "Most tokens to generate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--temperature", flags->temperature, "Sampling temperature in [0, 2]; 0 (below 1e-5) is greedy")
      ->capture_default_str();
  cmd->add_option("--top-k", flags->top_k, "Keep the k most likely tokens (0: off)")->capture_default_str();
  cmd->add_option("--top-p", flags->top_p, "Nucleus sampling mass in (0, 1]")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "Sampling seed: the same seed gives the same text");
  cmd->add_flag("--ignore-eos", flags->ignore_eos, "Keep generating past the end-of-sequence token");
  cmd->add_flag("--chat", flags->chat, "Wrap the prompt as a user message in the model's chat template");
  cmd->add_option("--chat-template", flags->chat_template, "With --chat: auto, chatml, llama-2, llama-3 or plain")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "Compute threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--kernels", flags->kernels, "Kernel path: auto, scalar or avx2")->capture_default_str();
  add_precision_flags(cmd, {&flags->dtype, &flags->quantize, &flags->kv_dtype});
  cmd->callback([flags, exit_code] {
    const Status status = run_generate(*flags);
    if (!status.ok()) std::cerr << "ppd generate: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli

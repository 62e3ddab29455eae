// Decoder: the `decoder` of tokenizer.json compiled into (1) a per-token transform from a
// token string to bytes (Replace, ByteFallback, ByteLevel, Metaspace, per-token Strip) and
// (2) a rule on the fused output: strip up to N leading `content` characters (Strip after
// Fuse). DecodeStream turns a token sequence into text one token at a time with O(1)
// amortized work per token: bytes become UTF-8 lossily (maximal invalid subparts become
// U+FFFD) and an incomplete multi-byte tail is held until it completes, so the streamed
// pieces concatenate to exactly the text of decoding all tokens at once.
// Decoder is immutable after parse and thread-safe; a DecodeStream is single-threaded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/tokenizer/json_fields.h"
#include "ppd/tokenizer/text_pattern.h"

namespace ppd::tokenizer {

class Decoder {
 public:
  // Parses the decoder at `path`; a null `value` joins tokens with spaces, as HF does.
  static Result<Decoder> parse(const Json& value, std::string_view path);

  // Appends the bytes that `token` contributes as the `position`-th token (0-based) that
  // reaches the decoder. Never fails: text the steps cannot map passes through as-is.
  void append_token_bytes(std::string_view token, size_t position, std::string* bytes) const;

  // Strip after Fuse: up to `num_strip_leading` leading `strip_content` characters of the
  // whole output are dropped.
  const std::string& strip_content() const { return strip_content_; }
  int num_strip_leading() const { return num_strip_leading_; }

 private:
  enum class Kind { kReplace, kByteFallback, kByteLevel, kMetaspace, kStrip, kJoinWithSpace };
  struct Step {
    Kind kind = Kind::kReplace;
    TextPattern pattern;      // kReplace
    std::string content;      // kReplace: replacement; kMetaspace: the replacement char;
                              // kStrip: the stripped char
    bool drop_first = false;  // kMetaspace: prepend_scheme is not "never"
    int start = 0;            // kStrip
    int stop = 0;             // kStrip
  };

  Status append_steps(const Json& value, std::string_view path, int depth);
  static Result<Step> parse_replace(const Json& value, std::string_view path);
  static Result<Step> parse_metaspace(const Json& value, std::string_view path);
  Status parse_strip(const Json& value, std::string_view path);
  // Applies `step` to one token's text; returns true when `text` now holds output bytes.
  static bool apply_step(const Step& step, size_t position, std::string* text);

  std::vector<Step> steps_;
  bool fused_ = false;  // a Fuse or ByteLevel step has joined the tokens
  std::string strip_content_;
  int num_strip_leading_ = 0;
};

// Streams token strings through a Decoder. Concatenating every push() and the final
// flush() gives the decoded text of the whole sequence. REQUIRES: the Decoder outlives it.
class DecodeStream {
 public:
  explicit DecodeStream(const Decoder* decoder);

  // Feeds the next token; appends the newly complete text to *out. Mutates the stream.
  void push(std::string_view token, std::string* out);
  // Ends the stream: a held incomplete UTF-8 tail becomes U+FFFD. Mutates the stream;
  // a later push starts a fresh output (the leading Strip does not apply again).
  void flush(std::string* out);

 private:
  void emit(std::string_view text, std::string* out);

  const Decoder* decoder_;
  size_t num_tokens_ = 0;
  std::string pending_bytes_;  // an incomplete UTF-8 sequence, at most 3 bytes between calls
  int num_strip_left_;
};

}  // namespace ppd::tokenizer

// The pseudo-English corpus and the byte-level alphabet (declared in synth_bpe.h).
#include <cctype>
#include <sstream>
#include <unordered_set>

#include "ppd/model/synth_bpe.h"
#include "ppd/model/synth_rng.h"

namespace ppd::model {
namespace {

// Common English words, most frequent first.
constexpr const char* kCommonWords =
    "the of and to a in is it you that he was for on are with as I his they be at one have "
    "this from or had by not word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been "
    "now find any new work part take get place made live where after back little only round "
    "man year came show every good me give our under name very through just form sentence "
    "great think say help low line differ turn cause much mean before move right boy old too "
    "same tell does set three want air well also play small end put home read hand port large "
    "spell add even land here must big high such follow act why ask men change went light "
    "kind off need house picture try us again animal point mother world near build self earth "
    "father head stand own page should country found answer school grow study still learn "
    "plant cover food sun four between state keep eye never last let thought city tree cross "
    "farm hard start might story saw far sea draw left late run while press close night real "
    "life few north open seem together next white children begin got walk example ease paper "
    "group always music those both mark often letter until mile river car feet care second "
    "book carry took science eat room friend began idea fish mountain stop once base hear "
    "horse cut sure watch color face wood main enough plain girl usual young ready above ever "
    "red list though feel talk bird soon body dog family direct leave song measure door "
    "product black short class wind question happen complete ship area half rock order fire "
    "south problem piece told knew pass since top whole king space heard best hour better true "
    "during hundred five remember step early hold west ground interest reach fast sing listen "
    "six table travel less morning ten simple several toward war lay against pattern slow "
    "center love person money serve appear road map rain rule pull cold notice voice unit "
    "power town fine certain fly fall lead cry dark machine note wait plan figure star box "
    "field rest correct able done beauty drive stood contain front teach week final gave green "
    "quick develop ocean warm free minute strong special mind behind clear produce fact street "
    "nothing course stay wheel full force blue object decide surface deep moon island foot "
    "system busy test record boat common gold possible plane dry wonder laugh thousand ago ran "
    "check game shape hot miss brought heat snow bring yes distant fill east paint language "
    "among happy model request token server cache";

// Syllable parts, most common first (the generator favours early entries).
const std::vector<std::string> kOnsets = {"",   "t",  "s",  "r",  "n",  "l",  "d",  "m",   "c",  "p",  "b",  "h",
                                          "f",  "g",  "w",  "st", "th", "v",  "k",  "tr",  "pr", "br", "ch", "sh",
                                          "cr", "gr", "fr", "pl", "cl", "bl", "sp", "fl",  "dr", "wh", "y",  "j",
                                          "sc", "sl", "sm", "sn", "sk", "sw", "gl", "str", "z"};
const std::vector<std::string> kNuclei = {"e",  "a",  "i", "o",  "u",  "ea", "ou", "ai",
                                          "ee", "oo", "y", "ie", "ay", "ow", "oa"};
const std::vector<std::string> kCodas = {"",   "",   "n",  "r",  "s",  "t",  "l",  "d",  "nd", "m",  "st",  "ng", "nt",
                                         "ll", "ck", "ss", "rt", "rd", "sh", "th", "ch", "rn", "mp", "ght", "x"};
const std::vector<std::string> kSuffixes = {"s",    "ed",   "ing",  "er",  "ly",  "tion",
                                            "ment", "ness", "able", "est", "ful", "less"};

constexpr uint64_t kCorpusKey = 0x7073796e74686571ULL;  // fixed: the corpus ignores the model seed

// An index in [0, n) that favours small values (the minimum of two uniform draws).
size_t skewed(const CounterRng& rng, uint64_t& counter, size_t n) {
  const uint32_t a = rng.below(counter++, static_cast<uint32_t>(n));
  const uint32_t b = rng.below(counter++, static_cast<uint32_t>(n));
  return std::min(a, b);
}

std::string pseudo_word(const CounterRng& rng, uint64_t& counter) {
  const uint32_t roll = rng.below(counter++, 10);
  const int num_syllables = roll < 4 ? 1 : roll < 8 ? 2 : 3;
  std::string word;
  for (int i = 0; i < num_syllables; ++i) {
    word += kOnsets[skewed(rng, counter, kOnsets.size())];
    word += kNuclei[skewed(rng, counter, kNuclei.size())];
    word += kCodas[skewed(rng, counter, kCodas.size())];
  }
  if (rng.below(counter++, 4) == 0) word += kSuffixes[skewed(rng, counter, kSuffixes.size())];
  return word;
}

std::string capitalized(std::string word) {
  word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
  return word;
}

std::string with_space(const std::string& word) {
  std::string text(1, ' ');
  text += word;
  return text;
}

// Adds `text` unless already present; returns whether it was added.
bool add_word(std::vector<CorpusWord>& corpus, std::unordered_set<std::string>& seen, const std::string& text,
              int64_t count) {
  if (!seen.insert(text).second) return false;
  corpus.push_back({text, count});
  return true;
}

void add_fixed_words(std::vector<CorpusWord>& corpus, std::unordered_set<std::string>& seen) {
  std::istringstream words(kCommonWords);
  std::string word;
  for (int64_t rank = 0; words >> word; ++rank) {
    const int64_t count = 1 + 400000 / (rank + 1);
    add_word(corpus, seen, with_space(word), count);
    add_word(corpus, seen, capitalized(word), 1 + count / 10);
  }
  for (const char* space : {"\n\n", "  ", "    ", "        ", "\n\n\n"}) add_word(corpus, seen, space, 5000);
  for (int n = 0; n < 100; ++n) add_word(corpus, seen, with_space(std::to_string(n)), 1 + 2000 / (n + 1));
}

}  // namespace

const std::array<std::string, 256>& byte_level_alphabet() {
  static const std::array<std::string, 256> alphabet = [] {
    std::array<std::string, 256> table;
    int next_code_point = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
      const int code_point = printable ? b : next_code_point++;
      // UTF-8 of a code point below 0x800.
      table[b] = code_point < 0x80 ? std::string(1, static_cast<char>(code_point))
                                   : std::string{static_cast<char>(0xc0 | (code_point >> 6)),
                                                 static_cast<char>(0x80 | (code_point & 0x3f))};
    }
    return table;
  }();
  return alphabet;
}

std::string to_byte_level(const std::string& raw) {
  const auto& alphabet = byte_level_alphabet();
  std::string out;
  out.reserve(raw.size() * 2);
  for (const char c : raw) out += alphabet[static_cast<unsigned char>(c)];
  return out;
}

std::vector<CorpusWord> synth_corpus(int min_num_merges) {
  std::vector<CorpusWord> corpus;
  std::unordered_set<std::string> seen;
  add_fixed_words(corpus, seen);
  const CounterRng rng(kCorpusKey);
  uint64_t counter = 0;
  const int64_t target = static_cast<int64_t>(corpus.size()) + min_num_merges + 1000;
  for (int64_t rank = 0; static_cast<int64_t>(corpus.size()) < target && rank < 50 * target; ++rank) {
    const std::string word = pseudo_word(rng, counter);
    const int64_t count = 1 + 20000 / (rank + 20);
    if (add_word(corpus, seen, with_space(word), count) && rank % 8 == 0) {
      add_word(corpus, seen, capitalized(word), 1 + count / 4);
    }
  }
  return corpus;
}

}  // namespace ppd::model

// RankPersonas over the load generator's eight personas: every match
// explained (MatchPersona with max_results 0, as the loadgen asks) against
// the best one only (max_results 1, as campaign asks on every capture).
// Run: build/tools/bench/persona_match_bench

#include <benchmark/benchmark.h>

#include <vector>

#include "services/persona/persona_matcher.h"
#include "tools/bench/bench_data.h"

namespace handoff::bench {
namespace {

void BM_RankPersonas(benchmark::State& state) {
  std::vector<persona::v1::Persona> personas = BenchPersonas();
  for (size_t i = 0; i < personas.size(); ++i) {
    personas[i].set_name("personas/p" + std::to_string(i));
  }
  const int max_results = static_cast<int>(state.range(0));
  int64_t seq = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(persona::RankPersonas(
        personas, ProfileFor(seq++), /*min_score=*/0, max_results));
  }
}
BENCHMARK(BM_RankPersonas)->ArgName("max_results")->Arg(0)->Arg(1);

}  // namespace
}  // namespace handoff::bench

BENCHMARK_MAIN();

"""The fault suite's map: every GUIDE §5 fault, the tests that cover it, what must happen.

Why a map and not moved tests: many faults were already tested next to the code they
exercise (tests/test_adapters.py, tests/test_tuning_data.py, ...). They stay there; this
module lists them by node id so `python -m tests.faults` runs the whole bar at once and
tests/faults/README.md can say where each fault is checked.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One line of the reliability bar: the fault, its tests elsewhere, the expected outcome."""

    fault: str
    elsewhere: tuple[str, ...]
    expected: str

    def __post_init__(self) -> None:
        if not self.fault or not self.expected:
            raise ValueError("fault and expected must not be empty")
        for node in self.elsewhere:
            if not node.startswith("tests/") or "::" not in node:
                raise ValueError(f"elsewhere: {node!r} is not a pytest node id")


TD, TA, TJ, TT = ("tests/test_tuning_data.py", "tests/test_adapters.py",
                  "tests/test_jobs_publish.py", "tests/test_tuning_train.py")
E2E_API, E2E_TRAIN, E2E_SIM = ("tests/e2e/test_api_client.py", "tests/e2e/test_training_page.py",
                               "tests/e2e/test_similarity_page.py")
TS, E2E_SPACE = "tests/test_space_hub.py", "tests/e2e/test_space_online.py"

FAULTS: tuple[Fault, ...] = (
    Fault("oversized upload", (f"{TD}::test_size_limit_is_checked_before_reading",),
          "HTTP 413 from /gradio_api/upload above 50 MB; the corpus reader checks size before reading"),
    Fault("binary file renamed .csv", (f"{TD}::test_binary_renamed_csv_is_refused",
                                       f"{E2E_API}::test_preview_corpus_rejects_binary_renamed_csv"),
          "CorpusError 'This is not a text/table file ...'"),
    Fault("empty file, one line, no text column", (f"{TD}::test_empty_one_line_and_no_text_column",
                                                   f"{E2E_TRAIN}::test_empty_csv_shows_a_clear_error"),
          "'The file is empty.' / one line trains / 'No text column found (columns: ...)'"),
    Fault("cp1251 file", (f"{TD}::test_encodings", f"{E2E_API}::test_preview_corpus_detects_cp1251"),
          "decoded as cp1251, the preview says so"),
    Fault("100k-line file", (f"{TD}::test_100k_lines_ok_and_over_the_row_limit_refused",),
          "100,000 rows load; 100,001 -> 'the limit is 100,000'"),
    Fault("unsupported file type", (f"{TD}::test_unsupported_suffix",), "'Unsupported file type ...'"),
    Fault("bad hyper-parameters", ("tests/test_tuning_config.py::test_bad_values_name_the_field",),
          "ValueError whose message starts with the field name"),
    Fault("adapter for another base", (f"{TA}::test_adapter_for_other_hidden_size_is_refused",
                                       f"{TA}::test_target_modules_absent_from_base",
                                       f"{TA}::test_weight_matching_nothing_is_refused",
                                       "tests/test_explorer_text.py::test_adapter_for_another_base_is_refused_and_model_left_clean"),
          "AdapterError; the shared model is left as it was"),
    Fault("adapter with another rank / missing weights", (f"{TA}::test_rank_in_config_differs_from_weights",
                                                          f"{TA}::test_missing_weight_is_refused",
                                                          "tests/test_embeddings.py::test_failed_replacement_keeps_old_adapter"),
          "AdapterError naming the tensor; never a partial load"),
    Fault("pickled .bin adapter", (f"{TA}::test_pickle_adapter_refused",
                                   f"{TA}::test_pickles_next_to_safetensors_are_ignored_not_read"),
          "refused (safetensors only); a pickle beside safetensors is never read"),
    Fault("trust_remote_code / exotic config", (f"{TA}::test_bad_configs_refused",),
          "AdapterError naming the option"),
    Fault("zip with ../, absolute path, link, bomb", (f"{TA}::test_zip_path_escape_refused",
                                                      f"{TA}::test_zip_symlink_refused",
                                                      f"{TA}::test_zip_bomb_refused",
                                                      f"{TA}::test_zip_with_too_many_members_refused",
                                                      f"{TA}::test_not_a_zip_and_no_adapter"),
          "AdapterError before anything is written"),
    Fault("second Train click while training", (f"{TJ}::test_second_job_of_a_session_is_refused_until_the_first_ends",
                                                f"{TJ}::test_one_training_at_a_time_in_submission_order"),
          "'A training of yours is already running; cancel it or wait.'; others queue in order"),
    Fault("two sessions", ("tests/test_embeddings.py::test_threads_share_one_encoder",),
          "own adapters and files only; a forged session id never becomes a path"),
    Fault("cancel", (f"{TT}::test_cancel_stops_within_one_step", f"{TJ}::test_cancel_while_queued_never_starts",
                     f"{TJ}::test_cancel_while_running_stops_the_job",
                     f"{TJ}::test_exception_becomes_job_error_and_frees_the_slot",
                     f"{E2E_TRAIN}::test_cancel_stops_a_long_training"),
          "stops after the current step, status 'cancelled', adapter saved (or none if never started)"),
    Fault("nothing half-written", (f"{TT}::test_out_dir_that_is_not_an_adapter_is_never_replaced",
                                   "tests/test_e5s1.py::test_conversion_is_atomic",
                                   "tests/test_base_encoder.py::test_offline_conversion_that_writes_nothing_is_an_error"),
          "temporary folder + rename; a failed run leaves no model that later runs would trust"),
    Fault("Hub unreachable", (f"{TS}::test_probe_unreachable_and_offline",
                              f"{TA}::test_default_adapter_offline", f"{TA}::test_hub_adapter_offline_is_a_clear_error",
                              f"{TJ}::test_push_offline_says_the_hub_is_unreachable",
                              f"{E2E_SIM}::test_pair_scores_and_offline_label"),
          "offline base and shipped adapter, labelled 'offline' / 'example:'"),
    Fault("Hub failing (5xx) or stalled", (f"{TS}::test_probe_tells_ok_http_error_and_stall_apart",
                                           f"{TS}::test_failing_hub_gives_the_labelled_offline_copy_in_time",
                                           f"{TS}::test_hub_that_stalls_after_a_good_probe_is_cut_off_by_the_deadline",
                                           f"{TS}::test_explicit_hub_ids_on_a_failing_hub_are_clear_errors",
                                           f"{E2E_SPACE}::test_failing_hub_gives_labelled_offline_defaults_within_a_minute"),
          "offline copy within about a minute, labelled 'Hub unavailable (HTTP 503): offline: …' / "
          "'Hub not answering (timed out): …'; a typed Hub id -> a clear error, app up"),
    Fault("model too big for the memory left", (f"{TS}::test_a_hub_model_above_the_limit_is_refused_before_any_weight_download",
                                                f"{TS}::test_a_typed_base_is_guarded_and_a_missing_one_is_a_clear_error",
                                                f"{E2E_SPACE}::test_model_above_the_memory_limit_is_refused_before_download_and_app_answers_on"),
          "MemoryGuardError naming need and free GB before any weight download; the next request answered"),
    Fault("no 4-bit backend", (f"{TT}::test_fallback_to_plain_lora_is_labelled",),
          "plain LoRA, mode label 'plain LoRA (no 4-bit backend: <reason>)' in the result and card"),
    Fault("empty / 10k-char / emoji / control-char input", ("tests/test_similarity.py::test_score_pairs_refuses_bad_input",
                                                            "tests/test_similarity.py::test_matrices_refuse_bad_input",
                                                            "tests/test_embeddings.py::test_text_cleaning_and_empty_text",
                                                            f"{E2E_API}::test_embed_rejects_empty_input",
                                                            f"{E2E_SIM}::test_empty_input_shows_a_message"),
          "empty -> 'text N is empty'; > 1000 chars -> 'longer than 1000 characters'; emoji and controls scored"),
)

# Fault tests that live outside tests/faults and run against the started app.
APP_TESTS = ("tests/e2e/test_faults_app.py",)


def node_ids(include_e2e: bool = True) -> list[str]:
    """Every node id of the fault suite outside tests/faults, without duplicates."""
    seen: dict[str, None] = {}
    for fault in FAULTS:
        for node in fault.elsewhere:
            if include_e2e or not node.startswith("tests/e2e/"):
                seen[node] = None
    if include_e2e:
        seen.update(dict.fromkeys(APP_TESTS))
    return list(seen)

/* wl_params.h - parsing a workload's typed parameters from "name=value" strings.
 *
 * Shared by the runner (harness/runner/) and the tests. wl_params_parse() fills run->p[i] for
 * every parameter of run->w, from the descriptor's default unless a "name=value" string
 * overrides it. Every error is one line naming the parameter and what is wrong with it.
 *
 * Syntax by type (wl_param_type in wl_workload.h):
 *   INT     optional '-', decimal digits
 *   SIZE    decimal digits, optional suffix K, KiB (x1024), M, MiB (x1024^2), G, GiB (x1024^3)
 *   DOUBLE  a finite real number (strtod syntax)
 *   ENUM    one of the '|'-separated choices, exactly; the value is its index
 *   STR     any text (may be empty)
 * INT/SIZE/DOUBLE values outside [min, max] are rejected (min > max: unbounded).
 *
 * Lifetime: run->p[i].s points into the kv strings (or the descriptor's defaults), so the kv
 * strings must outlive the run.
 */
#ifndef WL_PARAMS_H
#define WL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "wl_workload.h"

/* Fills run->p from run->w's defaults and the n strings kv[0..n) ("name=value"). Rejects an
 * unknown name, a name given twice, a missing '=', and bad or out-of-range values. Returns 0,
 * or -1 with a one-line message in err (e.g. "parameter 'slots': value '0' is below the
 * minimum 1"). */
int wl_params_parse(wl_run *run, const char *const *kv, int n, char *err, size_t errlen);

/* Index of parameter `name` in w->params, or -1. */
int wl_param_index(const wl_workload *w, const char *name);

/* Parses one value of parameter `def` into *out. 0, or -1 with a message naming the parameter. */
int wl_param_value_parse(const wl_param_def *def, const char *text, wl_param_value *out, char *err,
                         size_t errlen);

/* Parses a byte count with an optional K/KiB/M/MiB/G/GiB suffix. 0, or -1 (bad syntax, bad
 * suffix or overflow) with a short reason in err (without the parameter name). */
int wl_parse_size(const char *text, int64_t *out, char *err, size_t errlen);

#endif /* WL_PARAMS_H */

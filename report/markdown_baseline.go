package report

// baseline writes "## Accepted by the baseline": the findings a baseline
// accepted, with their justification and expiry, the baseline file and its
// SHA-256, and the baseline problems (expired and unmatched entries).
// Nothing is written without a baseline.
func (m *mdWriter) baseline(r *Report) {
	if len(r.Suppressed) == 0 && len(r.BaselineProblems) == 0 && r.Baseline == nil {
		return
	}
	m.f("## Accepted by the baseline\n\n")
	if b := r.Baseline; b != nil {
		m.f("Baseline %s, SHA-256 %s, %d %s.\n\n", mdCodeMax(b.File, false, mdMaxText), mdCode(b.SHA256, false), b.Entries, plural(b.Entries, "entry", "entries"))
	}
	if len(r.Suppressed) == 0 {
		m.f("No finding was accepted.\n\n")
	} else {
		m.f("These findings were found and accepted by the baseline: they do not fail the run, and a guideline they would fail is shown as pass with exceptions, never as a plain pass.\n\n")
		m.f("| ID | Severity | Rule | Path | Layer | Justification | Expires |\n|---|---|---|---|---|---|---|\n")
		for _, s := range r.Suppressed {
			f := s.Finding
			m.f("| %s | %s | %s | %s | %s | %s | %s |\n", cell(f.ID), mdText(string(f.Severity)), cell(f.Rule), cell(f.Path),
				cell(f.Layer), mdText(truncate(s.Justification, mdMaxText)), cell(s.Expires))
		}
		m.f("\n")
	}
	if len(r.BaselineProblems) > 0 {
		m.f("### Baseline problems\n\n")
		for _, p := range r.BaselineProblems {
			m.f("- %s\n", mdText(truncate(p, mdMaxMessage)))
		}
		m.f("\n")
	}
}

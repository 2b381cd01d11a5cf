package report

// baseline writes "## Suppressed by the baseline": the findings a baseline
// accepted, with their justification, and the baseline problems (expired
// and unmatched entries). Nothing is written without a baseline.
func (m *mdWriter) baseline(r *Report) {
	if len(r.Suppressed) == 0 && len(r.BaselineProblems) == 0 {
		return
	}
	m.f("## Suppressed by the baseline\n\n")
	if len(r.Suppressed) == 0 {
		m.f("No finding was suppressed.\n\n")
	} else {
		m.f("These findings are accepted by the baseline: they do not fail the run or the compliance verdicts.\n\n")
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

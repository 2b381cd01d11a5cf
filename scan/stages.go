package scan

import (
	"context"

	"github.com/anchore/syft/syft/sbom"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/analyzers/components/match"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
)

// sbomStage is what the components and SBOM stages give.
type sbomStage struct {
	comps      []report.Component
	sboms      map[string][]byte
	merged     *sbom.SBOM
	catalogErr error
	sbomErr    error
}

// runSBOMStage builds the component catalogue and the SBOMs of the
// extracted tree (it runs while the analyzers do).
func runSBOMStage(ctx context.Context, image string, res *extract.Result, target *analyzers.Target, rs []*match.Rule, withSyft bool) sbomStage {
	var st sbomStage
	fw, err := components.Catalog(ctx, target, rs)
	st.catalogErr = err
	st.comps, st.sboms, st.merged, st.sbomErr = BuildSBOM(ctx, image, res, fw, withSyft)
	return st
}

// componentRules are the component rules the analyzers were given (a rule
// folder's components.yaml, carried by the eol analyzer), nil for the
// embedded ones.
func componentRules(list []analyzers.Analyzer) []*match.Rule {
	return components.RulesOf(list)
}

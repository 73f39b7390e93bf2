package stack

import (
	"fmt"

	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NagFindings is a cdk-nag logger that keeps the error-level findings no
// suppression covers, and the rules that could not be evaluated. It
// implements cdknag.INagLogger; the checks call it during synthesis.
type NagFindings struct {
	errs []string
}

// Errors returns one line per unsuppressed error-level finding or failed
// rule, in the order the checks reported them.
func (n *NagFindings) Errors() []string { return n.errs }

// OnNonCompliance records error-level findings; warnings are left to the
// report.
func (n *NagFindings) OnNonCompliance(d *cdknag.NagLoggerNonComplianceData) {
	if d.RuleLevel != cdknag.NagMessageLevel_ERROR {
		return
	}
	id := *d.RuleId
	if d.FindingId != nil && *d.FindingId != "" {
		id += "[" + *d.FindingId + "]"
	}
	n.errs = append(n.errs, fmt.Sprintf("%s %s: %s", *d.Resource.Node().Path(), id, *d.RuleInfo))
}

// OnError records a rule that could not be evaluated.
func (n *NagFindings) OnError(d *cdknag.NagLoggerErrorData) {
	n.errs = append(n.errs, fmt.Sprintf("%s %s could not be evaluated: %s", *d.Resource.Node().Path(), *d.RuleId, *d.ErrorMessage))
}

// OnCompliance ignores compliant resources.
func (n *NagFindings) OnCompliance(*cdknag.NagLoggerComplianceData) {}

// OnNotApplicable ignores rules that do not apply.
func (n *NagFindings) OnNotApplicable(*cdknag.NagLoggerNotApplicableData) {}

// OnSuppressed ignores findings a suppression (with its reason) covers.
func (n *NagFindings) OnSuppressed(*cdknag.NagLoggerSuppressedData) {}

// OnSuppressedError ignores rule errors a suppression covers.
func (n *NagFindings) OnSuppressedError(*cdknag.NagLoggerSuppressedErrorData) {}

"""Every task kind: its department (whose inbox it lands in), who may complete it, its payload."""

from __future__ import annotations

from dataclasses import dataclass

from shared import payloads as p
from shared import payloads_aftersales as pa
from shared import payloads_customer as pc
from shared import payloads_final as pf
from shared import payloads_money as pm
from shared import payloads_procurement as pp
from shared import payloads_workshop as pw


# One kind of human task: the inbox it lands in, the roles that may complete it, its payload.
@dataclass(frozen=True)
class TaskKind:
    name: str
    department: str
    payload: type[p.Payload]
    roles: tuple[str, ...] = ()

    @property
    def completer_roles(self) -> tuple[str, ...]:
        """Roles allowed to complete it: the kind's own, else its department's; admin always."""
        return (*(self.roles or (self.department,)), "admin")


_KINDS = [
    TaskKind("engineering.contract_review", "engineering", p.ContractReview),
    TaskKind("procurement.lead_time_review", "procurement", p.LeadTimeReview),
    TaskKind("planning.delivery_review", "planning", p.DeliveryReview),
    TaskKind("sales.management_approval", "sales", p.Approval, ("head:sales", "division")),
    TaskKind("sales.confirm_delivery", "sales", p.ConfirmDelivery),
    TaskKind("planning.master_plan", "planning", p.MasterPlan),
    TaskKind("sales.renegotiate_delivery", "sales", p.RenegotiateDelivery),
    TaskKind("engineering.release_bom", "engineering", p.ReleaseBom),
    TaskKind("engineering.release_drawings", "engineering", p.ReleaseDrawings),
    TaskKind("procurement.special_approval", "procurement", p.Approval, ("division",)),
    TaskKind("procurement.stock_approval", "procurement", p.Approval, ("head:procurement",)),
    TaskKind("procurement.place_po", "procurement", p.PlacePo),
    TaskKind("procurement.chase_supply", "procurement", p.ChaseSupply),
    TaskKind("quality.incoming_inspection", "quality", p.IncomingInspection),
    TaskKind("quality.ncr_judgement", "quality", p.NcrJudgement),
    TaskKind("planning.ncr_disposition", "planning", p.NcrDisposition),
    TaskKind("warehouse.picking", "warehouse", p.Picking),
    TaskKind("engineering.design_change", "engineering", p.DesignChange),
    TaskKind("production.assembly", "production", p.Assembly),
    TaskKind("production.confirm_issue", "production", p.ConfirmIssue),
    TaskKind("planning.missing_part_analysis", "planning", p.MissingPartAnalysis),
    TaskKind("quality.process_confirmation", "quality", p.ProcessConfirmation),
    TaskKind("production.submit_inspection", "production", p.SubmitInspection),
    TaskKind("quality.final_inspection", "quality", p.FinalInspection),
    TaskKind("production.correct_defects", "production", p.CorrectDefects),
    TaskKind("sales.ship", "sales", p.Ship),
    TaskKind("sales.delivery_confirmed", "sales", p.DeliveryConfirmed),
    TaskKind("aftersales.commissioning", "aftersales", p.Commissioning),
    TaskKind("sales.settlement", "sales", p.Settlement),
    TaskKind("sales.evaluation", "sales", p.Evaluation),
    TaskKind("sales.ship_date", "sales", p.ShipDate),
    TaskKind("sales.change_agreement", "sales", p.ChangeAgreement),
    # Parts missing at final inspection (§11.2): fitted and signed, or shipped separately.
    TaskKind("production.fit_missing_parts", "production", pf.FitMissingParts),
    TaskKind("quality.sign_fitted_parts", "quality", pf.SignFittedParts),
    TaskKind("sales.missing_parts_shipment", "sales", pf.MissingPartsShipment),
    # After-sales service cases (售后): the three SLA clocks of a case.
    TaskKind("aftersales.case_response", "aftersales", pa.CaseResponse),
    TaskKind("aftersales.case_on_site", "aftersales", pa.CaseOnSite),
    TaskKind("aftersales.case_resolve", "aftersales", pa.CaseResolution),
    # Money (issue 16): finance audits the terms at intake (the role `OrderInput.audit_role`
    # names, finance or the sales head); sales or finance chase a short payment.
    TaskKind("sales.order_audit", "sales", pm.OrderAudit, ("finance", "head:sales")),
    TaskKind("sales.collect_payment", "sales", pm.CollectPayment, ("sales", "finance")),
    # Issue 16: the fee or compensation of a cancellation; the check before shipping.
    TaskKind("sales.cancellation_settlement", "sales", pc.CancellationSettlement),
    TaskKind("sales.shipping_check", "sales", pc.ShippingCheck),
    # The workshop's checks (§8.1, §8.2, §8.4) and engineering's answer to a drawing question.
    TaskKind("production.drawing_check", "production", pw.DrawingCheck),
    TaskKind("engineering.drawing_question", "engineering", pw.DrawingAnswer),
    TaskKind("production.appearance_check", "production", pw.AppearanceCheck),
    TaskKind("production.hand_over_documents", "production", pw.HandOverDocuments),
    # Issue 16, procurement: the buyer confirms (or moves) a PO line's promised date.
    TaskKind("procurement.confirm_promise", "procurement", pp.ConfirmPromise),
]

TASK_KINDS: dict[str, TaskKind] = {kind.name: kind for kind in _KINDS}


def task_kind(name: str) -> TaskKind:
    """The kind named `name`; KeyError for an unknown one."""
    return TASK_KINDS[name]

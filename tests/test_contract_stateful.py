"""The contract's links drive schemathesis's stateful runs: chains of calls (list centres, register a learner, read
and change it with its ETag, enrol it, submit evidence, claim, decide, countersign, sample, give a verdict) break no
check, and the chains really reach those writes."""

from collections import Counter

import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, settings
from jsonschema import Draft202012Validator
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from tests.test_contract import CONFIG, OPENAPI, _excluded_checks

# As tests/test_contract.py's runs as a caller: the caller's token is always sent. The chains are the contract's own
# links: with schemathesis's inferred ones as well (some 700, from response schemas), 150 scenarios of 20 steps made
# 3 enrolments and recorded no evidence or decision.
schema = schemathesis.openapi.from_path(OPENAPI, config=SchemathesisConfig.from_path(CONFIG))
schema.config.generation.update(with_security_parameters=False)
schema.config.phases.stateful.inference.algorithms = []

# Who makes each call: the step's own role at centre A (a trainee records decisions, so that a qualified assessor
# countersigns them; IQAs sample and verify). Everything else is the centre's admin.
CALLERS = {"recordDecision": "trainee_assessor_a", "countersignDecision": "assessor_a",
           "takeSample": "iqa_a", "getSample": "iqa_a", "recordVerdict": "iqa_a"}
successes: Counter = Counter()  # operationId -> 2xx responses over the run


def _operation_id(case) -> str:
    return case.operation.definition.raw["operationId"]


def _valid_body(case) -> dict | None:
    """The case's JSON object body if it was generated valid; a body generated to be invalid is left as it is."""
    if not isinstance(case.body, dict) or (case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY)):
        return None
    return case.body


def workflow_for(app, database, auth, known: dict):
    """schemathesis's state machine for the contract, calling ``app`` in-process as each step's caller. Each scenario
    runs in a savepoint that is rolled back after it, so every scenario starts from the same records: Hypothesis
    replays the choices of earlier scenarios, and must find the same steps possible."""

    class Workflow(schema.as_state_machine()):
        def setup(self):
            self.block = database.atomic()
            self.savepoint = self.block.__enter__()
            self.enrolments = {}  # id -> (start_date, planned_end_date), as last answered
            self.evidence = {}  # id -> enrolment id
            self.decided = set()  # (enrolment id, criterion id)

        def teardown(self):
            self.savepoint.rollback()
            self.block.__exit__(None, None, None)

        def before_call(self, case):
            case.operation.app = case.operation.schema.app = app  # checks that re-send a request go there too
            body = _valid_body(case)
            if body is not None:
                self.fill_in(_operation_id(case), case.path_parameters, body)

        def fill_in(self, operation: str, path: dict, body: dict) -> None:
            """What no link can know, and what a schema cannot state, in a body generated valid: the caller's centre,
            a published unit and the centre's staff, an evidence type, a criterion of the unit, evidence of this
            enrolment, a planned end no earlier than the start, a reason once a criterion has a decision."""
            if operation == "createLearner":
                body["centre_id"] = known["centre"]
            elif operation in ("createEnrolment", "updateEnrolment"):
                if operation == "createEnrolment":
                    body["unit_id"] = known["unit"]
                for field in ("assessor_ids", "iqa_ids"):
                    if field in body or operation == "createEnrolment":
                        body[field] = known[field]
                start, end = self.enrolments.get(path.get("enrolment_id"), (None, None))
                start, end = body.get("start_date", start), body.get("planned_end_date", end)
                if start and end and end < start:
                    body["planned_end_date"] = None
            elif operation == "submitEvidence":
                body.update(type="observation", criterion_ids=[known["criterion"]])
            elif operation == "claimCriteria":
                body["criterion_ids"] = [known["criterion"]]
            elif operation == "recordDecision":
                enrolment = path["enrolment_id"]
                if body["criterion_id"] not in known["criteria"]:
                    body["criterion_id"] = known["criterion"]
                if "evidence_ids" in body:
                    body["evidence_ids"] = [i for i in body["evidence_ids"] if self.evidence.get(i) == enrolment]
                if (enrolment, body["criterion_id"]) in self.decided and not body.get("reason"):
                    body["reason"] = "A second look at the evidence."

        def get_call_kwargs(self, case):
            return {"app": app, "headers": auth(CALLERS.get(_operation_id(case), "centre_admin_a"))}

        def after_call(self, response, case):
            super().after_call(response, case)
            operation = _operation_id(case)
            if not 200 <= response.status_code < 300:
                return
            successes[operation] += 1
            answer = response.json()
            if operation in ("createEnrolment", "updateEnrolment", "getEnrolment"):
                self.enrolments[answer["id"]] = (answer["start_date"], answer["planned_end_date"])
            elif operation == "submitEvidence":
                self.evidence[answer["id"]] = answer["enrolment_id"]
            elif operation == "recordDecision":
                self.decided.add((answer["enrolment_id"], answer["criterion_id"]))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # The caller's headers, as sent: without them, the check that auth is not ignored misreads the request.
            case.validate_response(response, additional_checks=additional_checks, headers=kwargs["headers"],
                                   excluded_checks=_excluded_checks(case), transport_kwargs={"app": app},
                                   recorder=self.recorder)

    return Workflow


def test_chains_of_calls_along_the_contracts_links_break_no_check_and_reach_the_writes(app, database, auth,
                                                                                      content_ids, identities):
    """Every check holds along chains of calls built from the contract's links, and the chains reach the writes: a
    learner is registered, read, and changed with its ETag; enrolled, and the enrolment changed; evidence is
    submitted and claimed; decisions are recorded and countersigned, and sampled."""
    from api.models import AssessmentCriterion, UnitVersion

    version = UnitVersion.get(UnitVersion.unit == content_ids["B13"], UnitVersion.status == "published")
    criteria = AssessmentCriterion.select().where(AssessmentCriterion.version == version)
    known = {"centre": content_ids["centre_a"], "unit": content_ids["B13"], "criterion": content_ids["b13_criterion"],
             "criteria": {str(c.id) for c in criteria},
             "assessor_ids": [str(identities.accounts[a].id) for a in ("assessor_a", "trainee_assessor_a")],
             "iqa_ids": [str(identities.accounts["iqa_a"].id)]}
    successes.clear()
    # derandomize: the same scenarios on every machine and backend. 60 scenarios of up to 30 steps reach every write
    # named below (40 reach no countersignature) in 33 s on SQLite and 36 s on PostgreSQL on a 2-core machine.
    workflow_for(app, database, auth, known).run(settings=settings(
        max_examples=60, stateful_step_count=30, derandomize=True, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck)))
    reached = {"createLearner", "getLearner", "updateLearner", "createEnrolment", "updateEnrolment", "submitEvidence",
               "claimCriteria", "recordDecision", "countersignDecision", "takeSample"}
    assert {name for name in reached if successes[name]} == reached, dict(successes)


def test_the_contract_calls_invalid_the_requests_the_server_refuses_for_a_missing_precondition_or_actions(
        client, auth, identities, content_ids):
    """Found by the stateful runs: an update without If-Match is a 428, and a not_confirmed verdict without actions a
    422, so the contract must not call either request valid (it did: schemathesis reported valid data refused)."""
    from tests.tracking_helpers import enrol, make_learner, post

    contract = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert contract["components"]["parameters"]["IfMatch"]["required"] is True
    learner = make_learner(client, auth, identities)["id"]
    enrolment = enrol(client, auth, identities, learner, content_ids["B13"])["id"]
    for path, record in (("/v1/learners/{learner_id}", learner), ("/v1/enrolments/{enrolment_id}", enrolment)):
        assert {"$ref": "#/components/parameters/IfMatch"} in contract["paths"][path]["patch"]["parameters"]
        url = path.replace(path[path.index("{"):], record)
        assert client.patch(url, json={}, headers=auth("centre_admin_a")).status_code == 428

    verdicts = Draft202012Validator({"$ref": "#/components/schemas/VerdictCreate", **contract})
    assert not verdicts.is_valid({"verdict": "not_confirmed"})
    assert not verdicts.is_valid({"verdict": "not_confirmed", "actions": None})
    assert verdicts.is_valid({"verdict": "not_confirmed", "actions": "Observe the learner again."})
    assert verdicts.is_valid({"verdict": "confirmed"})
    decision = post(client, auth, "assessor_a", f"/v1/enrolments/{enrolment}/decisions",
                    {"criterion_id": content_ids["b13_criterion"], "outcome": "met", "feedback": "Met."})["id"]
    sample = post(client, auth, "iqa_a", "/v1/iqa/samples", {"decision_id": decision})["id"]
    post(client, auth, "iqa_a", f"/v1/iqa/samples/{sample}/verdict", {"verdict": "not_confirmed"}, status=422)

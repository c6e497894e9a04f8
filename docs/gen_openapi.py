"""Writes functions/api/openapi.json. Edit here, run `python3 docs/gen_openapi.py`;
the API's unit test checks that the document and the router agree."""
import json

def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def with_html(r):
    """A response that is also a page, for a browser that asks for one."""
    r["content"]["text/html"] = {"schema": {"type": "string", "description": "the same verdict as a Chinese page"}}
    return r
def resp(desc, schema=None, headers=None):
    r = {"description": desc}
    if schema: r["content"] = {"application/json": {"schema": schema}}
    if headers: r["headers"] = headers
    return r
err = lambda d: resp(d, ref("Error"))
S = {"type": "string"}; NS = {"type": "string", "minLength": 1}; DT = {"type": "string", "format": "date-time"}; NDT = {"type": ["string", "null"], "format": "date-time"}
I = {"type": "integer"}; B = {"type": "boolean"}; NNUM = {"type": ["number", "null"]}
def obj(props, req=(), extra=True):
    o = {"type": "object", "properties": props}
    if req: o["required"] = list(req)
    return o

std_errors = {"400": err("Invalid input: every problem is listed in details"), "401": err("No or invalid token"),
              "403": err("Authenticated but not allowed; scope_required: an officer's or supervisor's token without region (a hospital officer's without hospital, a window's without site or hospital)"), "404": err("Unknown, or not yours"),
              "413": err("Body too large"), "415": err("Not application/json"), "503": err("Busy: retry")}
def errors(*codes): return {c: std_errors[c] for c in codes}
json_body = lambda schema: {"required": True, "content": {"application/json": {"schema": schema}}}
case_id = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}
sec = [{"bearer": []}]
PAGE = [{"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "next_cursor of the previous page"}]
NEXT = {"type": ["string", "null"], "description": "the cursor of the next page; null on the last"}
# The steps, in order, from the flow table (`onething flow --json`, infra/flow.json).
import os as _os
FLOW = json.load(open(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "infra", "flow.json")))
STEPS = [s["step"] for s in FLOW["steps"]]
STEP_ENUM = {"type": "string", "enum": STEPS}
FEEDBACK_ID = {"name": "feedback_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}

ID = {"type": "string", "pattern": "^[0-9]{17}[0-9Xx]$", "description": "18-character citizen ID number (GB 11643-1999): checked for a real date and the MOD 11-2 check character"}
parent = obj({"name": {"type": "string", "minLength": 1, "maxLength": 50}, "id_number": ID}, ["name", "id_number"])
form = obj({
    "channel": {"type": "string", "enum": ["zlb_app", "zj_web", "service_center", "hospital"]},
    "window": {"oneOf": [{"type": "null"}, obj({"site": NS, "number": NS}, ["site", "number"])], "description": "required for service_center and hospital, absent online"},
    "newborn": obj({"name": NS, "sex": {"type": "string", "enum": ["male", "female"]}, "birth_time": DT, "hospital_code": NS,
                    "weight_g": {"type": "integer", "minimum": 300, "maximum": 8000}, "length_cm": {"type": "integer", "minimum": 20, "maximum": 75},
                    "gestational_weeks": {"type": "integer", "minimum": 20, "maximum": 45}, "ethnicity": NS,
                    "birth_order": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1, "description": "twins: two applications with orders 1 and 2"},
                    "multiple_birth": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1, "description": "how many were born together (birth_order <= multiple_birth)"}},
                   ["name", "sex", "birth_time", "hospital_code", "weight_g", "length_cm", "gestational_weeks", "ethnicity"]),
    "mother": parent,
    "father": {"oneOf": [{"type": "null"}, parent]},
    "household": obj({"register_with": {"type": "string", "enum": ["father", "mother"]}}, ["register_with"]),
    "insurance": obj({"enrol_newborn": B, "maternity_benefit": B}, ["enrol_newborn", "maternity_benefit"]),
    "social_security_card": obj({"apply": B}, ["apply"]),
    "delivery": {"oneOf": [{"type": "null"}, obj({"method": {"type": "string", "enum": ["mail", "pickup", "window"]}, "address": {"type": ["string", "null"]}, "pickup_site": {"type": ["string", "null"]}}, ["method"])],
                 "description": "required online (mail or pickup); offline channels may choose mail or pickup too, and default to window (the window that took the application)"},
    "applicant": obj({"name": NS, "id_number": ID, "relation": {"type": "string", "enum": ["father", "mother", "guardian"], "description": "online only mother or father, applying as themselves; a guardian applies at a window with guardianship_proof"}, "phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"}}, ["name", "id_number", "relation", "phone"]),
    "bundle": {"type": "string", "pattern": "^[a-z0-9_]+$", "default": "birth", "description": "the 一件事 applied for (a bundle_id of GET /v1/catalogue that is open for applications)"},
    "consent": obj({"data_sharing": B, "at": {**DT, "description": "when the applicant chose (not after submission); the server's time when absent"}}, ["data_sharing"]) | {"description": "the consent step: data_sharing false asks for every material by upload; absent is taken as given"},
}, ["channel", "newborn", "mother", "household", "insurance", "social_security_card", "applicant"])

NS_ = {"type": ["string", "null"]}
def nullable(o, desc=None):
    o = dict(o); o["type"] = ["object", "null"]
    if desc: o["description"] = desc
    return o

# The form as a case shows it: the application form's fields, personal data masked for
# supervisors (so no ID-number pattern here).
person_view = obj({"name": S, "id_number": S}, ["name", "id_number"])
def partial(s):
    """The same schema with nothing required: what a JSON merge patch may hold."""
    if isinstance(s, dict):
        return {k: partial(v) for k, v in s.items() if k != "required"}
    if isinstance(s, list):
        return [partial(x) for x in s]
    return s
form_patch = partial(form) | {"description": "a JSON merge patch (RFC 7396) of the form: only the fields to change"}

form_view = obj({
    "channel": S, "window": nullable(obj({"site": S, "number": S}, ["site", "number"])),
    "newborn": obj({"name": S, "sex": {"type": "string", "enum": ["male", "female"]}, "birth_time": DT, "hospital_code": S,
                    "weight_g": I, "length_cm": I, "gestational_weeks": I, "ethnicity": S, "birth_order": I, "multiple_birth": I}, ["name", "sex", "birth_time", "hospital_code"]),
    "mother": person_view, "father": nullable(person_view),
    "household": obj({"register_with": {"type": "string", "enum": ["father", "mother"]}}, ["register_with"]),
    "insurance": obj({"enrol_newborn": B, "maternity_benefit": B}, ["enrol_newborn", "maternity_benefit"]),
    "social_security_card": obj({"apply": B}, ["apply"]),
    "delivery": nullable(obj({"method": {"type": "string", "enum": ["mail", "pickup", "window"]}, "address": NS_, "pickup_site": NS_}, ["method"])),
    "applicant": obj({"name": S, "id_number": S, "relation": S, "phone": S}, ["name", "id_number", "relation", "phone"]),
    "consent": obj({"data_sharing": B, "at": DT}, ["data_sharing", "at"]),
}, ["channel", "newborn", "mother", "household", "insurance", "social_security_card", "applicant"])
rating = obj({"level": I, "label": S, "comment": NS_, "at": DT, "follow_up": B,
              "bad": nullable(obj({"responsible_dept": S, "return_visit_due": DT, "rectify_due": DT, "return_visit_at": NDT, "rectified_at": NDT},
                                  ["responsible_dept", "return_visit_due", "rectify_due"]), "Follow-up deadlines of a bad rating (levels 1-2)")},
             ["level", "label", "at", "follow_up"])
complaint = obj({"complaint_id": S, "text": S, "at": DT, "dept": S, "status": {"type": "string", "enum": ["open", "answered"]},
                 "answer": NS_, "answered_at": NDT, "answered_by": NS_}, ["complaint_id", "text", "at", "dept", "status"])

# The results a case holds, each present once its step issued it (domain::steps).
results = obj({
    "birth_certificate_number": {"type": "string", "description": "hospital: Q + 9 digits"},
    "vaccination_certificate_number": {"type": "string", "description": "hospital: V + county code + 9 digits"},
    "newborn_id_number": {"type": "string", "description": "police: the newborn's citizen ID number"},
    "household_number": {"type": "string", "description": "police: the household the newborn is registered in"},
    "medical_insurance": obj({"enrolled": B, "insurance_number": S, "scheme": S, "reason": S,
                              "status": {"type": "string", "enum": ["pending_payment", "paid"], "description": "cover is active once the premium is paid"},
                              "payment": obj({"paid_at": DT, "amount_cny": I, "receipt": S, "recorded_at": DT}, ["paid_at", "amount_cny", "receipt"]),
                              "premium_notice": obj({"amount_cny": I, "pay_by": {"type": "string", "format": "date", "description": "never earlier than 30 days after the notice"}, "year": I, "how": S}, ["amount_cny", "pay_by", "year", "how"])}, ["enrolled"]),
    "maternity_benefit": obj({"status": {"type": "string", "enum": ["not_requested", "approved", "not_eligible"]}, "settlement": S, "reason": S}, ["status"]),
    "social_security_card": obj({"applied": B, "number": S, "card_serial": S, "issued_at": DT}),
    "issuance": obj({"method": {"type": "string", "enum": ["mail", "pickup", "window"]}, "issued_at": DT, "items": {"type": "array", "items": S},
                     "tracking_number": S, "address": {"type": ["string", "null"]}, "pickup_code": S, "pickup_site": {"type": ["string", "null"]},
                     "site": {"type": ["string", "null"]}, "window": {"type": ["string", "null"]}, "issued_by": S}, ["method", "issued_at", "items"]),
})
delivery_record = obj({"items": {"type": "array", "items": S}, "by": S, "step": S, "method": {"type": "string", "enum": ["mail", "pickup", "window"]},
                       "tracking_number": S, "pickup_code": S, "pickup_site": S, "address": S, "site": S, "window": S, "issued_at": DT},
                      ["items", "by", "step", "method", "issued_at"])
superseded = obj({"kind": S, "value": S, "superseded_at": DT, "reason": S}, ["kind", "value", "superseded_at", "reason"])
case_results = dict(results)
case_results["properties"] = dict(results["properties"])
case_results["properties"]["deliveries"] = {"type": "array", "items": delivery_record,
    "description": "every hand-over: online each unit hands over its own documents when its step is done; offline the accepting unit at the end (or by mail)"}
case_results["properties"]["superseded"] = {"type": "array", "items": superseded,
    "description": "results replaced by corrections; a superseded number is never issued again"}
case_results["required"] = ["deliveries", "superseded"]

step = obj({"step": STEP_ENUM,
            "dept": {"type": "string", "enum": ["hospital", "police", "medical_insurance", "hrss", "service_center", "health"]},
            "status": {"type": "string", "enum": ["pending", "in_progress", "awaiting_review", "done", "returned", "rejected", "not_applicable"]},
            "started_at": NDT, "due_at": NDT, "finished_at": NDT, "reasons": {"type": "array", "items": S}, "results": results,
            "task_id": {"type": ["string", "null"]}, "overdue": B, "round": I,
            "region": {"type": ["string", "null"], "description": "where the step is handled: a county code"},
            "region_name": {"type": ["string", "null"], "description": "the same by name (杭州市西湖区), for pages"}},
           ["step", "dept", "status", "reasons", "results"])
status_enum = {"type": "string", "enum": ["awaiting_confirmation", "submitted", "incomplete", "not_accepted", "in_progress", "returned", "rejected", "completed", "withdrawn", "voided"]}
ID_ = {"type": "string", "pattern": "^[a-z0-9_]+$"}
catalogue_item = obj({"item_id": ID_, "name": S, "unit": S, "queue": S,
                      "working_days": {"type": ["integer", "null"], "minimum": 1, "description": "null: within the bundle's promise (the hand-over)"},
                      "at_window": {"type": ["string", "null"], "enum": ["immediate", None], "description": "immediate: done the same day when applied for at a window (即办)"},
                      "hand_over": {"type": ["string", "null"], "enum": ["own", "unified", None], "description": "online: own = the unit hands over its documents when its item is done (各自出件); unified or null = with the unified issuance"},
                      "matters": {"type": "array", "items": S},
                      "materials": {"type": "array", "items": obj({"kind": S, "name": S, "source": NS_, "commitment_allowed": B}, ["kind", "name", "source", "commitment_allowed"])},
                      "results": {"type": "array", "items": S},
                      "depends_on": {"type": "array", "items": S, "description": "form fields whose correction sends the case back to this item"}},
                     ["item_id", "name", "unit", "working_days", "materials", "results"])
bundle_schema = obj({"bundle_id": ID_, "stage": {"type": "string", "description": "生命周期阶段"}, "name": S, "lead_unit": S, "units": {"type": "array", "items": S},
                     "promise_working_days": {"type": "integer", "minimum": 1},
                     "situations": {"type": "array", "items": obj({"situation_id": ID_, "name": S,
                                                                   "when": {"type": "array", "items": obj({"field": S, "equals": {}}, ["field", "equals"]), "description": "all must hold for the form; empty: always"},
                                                                   "items": {"type": "array", "items": catalogue_item}}, ["situation_id", "name", "when", "items"])}},
                    ["bundle_id", "stage", "name", "lead_unit", "units", "promise_working_days", "situations"])
BUNDLE_FIELDS = {"bundle": {"type": "string", "description": "the 一件事 applied for (catalogue bundle_id)"},
                 "catalogue_version": {"type": "integer", "minimum": 1, "description": "the catalogue version whose items and time limits the case keeps"}}
case = obj({
    "case_id": S, "status": status_enum, "channel": S, "version": I, **BUNDLE_FIELDS,
    "masked": {"type": "boolean", "const": False, "description": "false: the case in full (MaskedCase has true), so a client tells the two apart"},
    "submitted_at": DT, "accepted_at": NDT, "due_at": NDT, "finished_at": NDT, "updated_at": DT, "overdue": B,
    "acceptance_notice": nullable(obj({
        "notice_number": S, "accepted_by": S, "accepted_at": DT, "due_at": DT, "time_limit_working_days": I,
        "received_materials": {"type": "array", "items": obj({"material": S, "source": {"type": "string", "enum": ["data_sharing", "upload", "form"]}}, ["material", "source"])},
        "window": nullable(obj({"site": S, "number": S}, ["site", "number"])),
        "delivery": obj({"method": {"type": "string", "enum": ["mail", "pickup", "window"]}, "address": NS_, "pickup_site": NS_, "site": NS_, "window": NS_}, ["method"]),
    }, ["notice_number", "accepted_by", "accepted_at", "due_at", "time_limit_working_days", "received_materials"]), "The acceptance notice (受理通知), once accepted"),
    "missing": {"type": "array", "items": obj({"material": S, "name": {"type": "string", "description": "the material's Chinese name"}, "reason": S,
                                               "field": {"type": "string", "description": "the form field to correct, when the problem is with the form"},
                                               "alternatives": {"type": "array", "items": S, "description": "material kinds that may stand in for it (commitment)"}},
                                              ["material", "reason"])},
    "steps": {"type": "array", "items": ref("Step")},
    "results": case_results,
    "timeline": {"type": "array", "items": obj({"at": DT, "actor": S, "action": S, "detail": S}, ["at", "actor", "action", "detail"])},
    "form": ref("FormView"),
    "materials": {"type": "array", "items": obj({"material_id": S, "kind": S, "content_type": S, "size": I, "status": {"type": "string", "enum": ["awaiting_upload", "uploaded"]},
                                                 "created_at": DT, "uploaded_at": NDT, "sha256": NS_}, ["material_id", "kind", "content_type", "size", "status"])},
    "ratings": {"type": "array", "items": ref("Rating")},
    "complaints": {"type": "array", "items": ref("Complaint")},
    "archive": nullable(obj({"location": S, "manifest_sha256": S, "files": I, "archived_at": DT}, ["location", "manifest_sha256", "files", "archived_at"]), "Where the finished case is archived"),
    "warnings": {"type": "array", "items": S},
    "provisional": {"type": "boolean", "description": "the deadlines crossed a year without its holiday notice (调休 not yet known): provisional; warnings says so"},
    "current_step": {"type": ["string", "null"]},
    "notifications": {"type": "array", "items": obj({"seq": I, "kind": S, "title": S, "body": S, "channel": S, "sent_at": DT}, ["seq", "kind", "title", "body"]),
                      "description": "what the guardian was told (owner and officers only)"},
}, ["case_id", "status", "channel", "version", "masked", "submitted_at", "steps", "results", "timeline", "missing"])
masked_case = obj({
    "case_id": S, "channel": S, "status": status_enum, "version": I, **BUNDLE_FIELDS, "masked": {"type": "boolean", "const": True},
    "submitted_at": DT, "accepted_at": NDT, "due_at": NDT, "finished_at": NDT, "updated_at": DT, "overdue": B,
    "current_step": {"type": ["string", "null"]}, "birth_date": {"type": "string", "format": "date"},
    "steps": {"type": "array", "items": obj({"step": S, "dept": S, "status": S, "round": I, "started_at": NDT, "due_at": NDT, "finished_at": NDT,
                                             "overdue": B, "reasons": {"type": "integer", "description": "how many reasons (their text is not shown)"}},
                                            ["step", "dept", "status"])},
    "materials": {"type": "array", "items": obj({"kind": S, "status": S, "created_at": DT, "uploaded_at": NDT}, ["kind", "status"])},
    "missing": {"type": "array", "items": S}, "results_issued": {"type": "array", "items": S}, "superseded": I,
    "ratings": {"type": "array", "items": obj({"level": I, "label": S, "at": DT, "has_comment": B, "responsible_dept": {"type": ["string", "null"]},
                                               "return_visit_due": NDT, "return_visit_at": NDT, "rectify_due": NDT, "rectified_at": NDT}, ["level", "at"])},
    "complaints": {"type": "array", "items": obj({"complaint_id": S, "at": DT, "dept": S, "status": S, "answered_at": NDT}, ["complaint_id", "at", "dept", "status"])},
    "timeline": {"type": "array", "items": obj({"at": DT, "actor": {"type": "string", "description": "guardian, system, or role:dept"}, "action": S}, ["at", "actor", "action"])},
    "archived": B,
}, ["case_id", "status", "masked", "steps", "timeline"])
masked_case["description"] = ("What those who may not see personal data see (supervisors, the health unit): an allow-list of times, statuses, steps, "
                              "material kinds and follow-up states. No name, ID number, phone, address, birth time, weight, result or tracking number, "
                              "or free text (reasons, complaints, comments, answers, timeline details).")
certificate = obj({"cert_id": S, "kind": {"type": "string", "enum": ["birth_medical_certificate", "vaccination_certificate", "household_registration", "medical_insurance_enrolment", "social_security_card", "maternity_benefit_decision"]},
                   "name": S, "number": S, "issued_at": DT, "issuer": S, "holder": S, "status": {"type": "string", "enum": ["valid", "superseded", "revoked"]},
                   "superseded_by": {"type": ["string", "null"]}, "document_url": {"type": ["string", "null"], "description": "a 5-minute URL of the certificate's sealed PDF (A4, QR code of verify_url); null for supervision, or where the deployment renders no PDFs (no CJK font)"},
                   "verify_url": {"type": ["string", "null"]}, "token": S},
                  ["cert_id", "kind", "number", "issued_at", "issuer", "status"])
appointment = obj({"appointment_id": S, "code": {"type": "string", "description": "six digits, shown at the window"}, "site_id": S, "start": DT, "end": DT,
                   "purpose": {"type": "string", "enum": ["apply", "pickup"]}, "case_id": {"type": ["string", "null"]},
                   "status": {"type": "string", "enum": ["active", "cancelled"]}, "created_at": DT, "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                   "guardian": {"type": "string", "description": "masked; in a site's day list only"}},
                  ["appointment_id", "code", "site_id", "start", "end", "purpose", "status"])
feedback_item = obj({"feedback_id": S, "kind": {"type": "string", "enum": ["rating", "complaint"]}, "case_id": S, "step": {"type": ["string", "null"]}, "dept": S,
                     "created_at": DT, "return_visit_due": NDT, "rectify_due": NDT, "answered_at": NDT, "return_visit_at": NDT, "rectified_at": NDT,
                     "status": {"type": "string", "enum": ["open", "closed"]}, "overdue": B},
                    ["feedback_id", "kind", "case_id", "dept", "created_at", "status"])
summary = obj({"case_id": S, "status": status_enum, "channel": S, "version": I, "submitted_at": DT, "accepted_at": NDT, "due_at": NDT, "finished_at": NDT, "current_step": {"type": ["string", "null"]}, "newborn_name": S,
                "role": {"type": "string", "enum": ["owner", "mother", "father"], "description": "who the caller is in the case: who applied, or a parent it names"}}, ["case_id", "status", "version", "role"])
task = obj({"task_id": S, "case_id": S, "step": S, "dept": S, "hospital_code": {"type": "string", "description": "the birth hospital"}, "region": {"type": ["string", "null"], "description": "where the step is handled (county code)"}, "created_at": DT, "due_at": DT, "version": I, "summary": S, "findings": {"type": "array", "items": S}, "overdue": B},
           ["task_id", "case_id", "step", "dept", "created_at", "due_at", "version", "summary"])
error = obj({"error": obj({"code": S, "message": {"type": "string", "description": "Chinese, fit to show a citizen as it is"}, "details": {"type": "array", "items": obj({"field": S, "code": S, "message": S}, ["field", "code", "message"])},
                          "existing_case_id": {"type": "string", "description": "duplicate_newborn only: the live case, for its owner, either parent named in it, or a window officer"}}, ["code", "message", "details"])}, ["error"])
error["example"] = {"error": {"code": "invalid_request", "message": "申请内容有 2 处需要修改，请按提示逐项更正", "details": [
    {"field": "mother.id_number", "code": "checksum", "message": "不是有效的公民身份号码：校验码不正确"},
    {"field": "newborn.birth_time", "code": "future", "message": "出生时间不能晚于现在"}]}}

EXAMPLE_FORM = {
    "channel": "zlb_app",
    "newborn": {"name": "王小溪", "sex": "female", "birth_time": "2026-11-28T08:30:00+08:00", "hospital_code": "H330106001",
                "weight_g": 3250, "length_cm": 50, "gestational_weeks": 39, "ethnicity": "汉族"},
    "mother": {"name": "李梅", "id_number": "330106199203040223"},
    "father": {"name": "王海", "id_number": "330106199001010130"},
    "household": {"register_with": "father"},
    "insurance": {"enrol_newborn": True, "maternity_benefit": True},
    "social_security_card": {"apply": True},
    "delivery": {"method": "mail", "address": "杭州市西湖区文三路 1 号", "pickup_site": None},
    "applicant": {"name": "王海", "id_number": "330106199001010130", "relation": "father", "phone": "13800000000"},
}

doc = {
 "openapi": "3.1.0",
 "info": {"title": "onething API", "version": "1.0.0",
          "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
          "description": "Zhejiang birth one-thing (出生“一件事”). One form, one notice, one completion: the joint-handling API of the birth one-thing. Times are RFC 3339 (Asia/Shanghai business time); a due_at is the last second of its day. Errors are {\"error\": {code, message, details}}; 404 also means 'not yours'."},
 "servers": [{"url": "{scheme}://{host}", "description": "the local runtime (onething serve; default 127.0.0.1:8080) or a deployed stack (its ApiUrl or EdgeUrl output)",
              "variables": {"scheme": {"default": "http", "enum": ["http", "https"]}, "host": {"default": "127.0.0.1:8080"}}}],
 "components": {
   "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "Claims: sub (a guardian's citizen ID number), role (guardian | window_officer | dept_officer | supervisor), dept (officers), exp."}},
   "schemas": {"Bundle": bundle_schema, "FormPatch": form_patch, "Error": error, "ApplicationForm": form, "FormView": form_view, "Case": case, "MaskedCase": masked_case, "FeedbackItem": feedback_item, "CaseSummary": summary, "Task": task, "Step": step,
               "Rating": rating, "Complaint": complaint, "Appointment": appointment, "Certificate": certificate},
 },
 "paths": {
  "/healthz": {"get": {"summary": "Liveness", "operationId": "healthz", "responses": {"200": resp("Alive", obj({"status": S, "calendar": {"type": "string", "enum": ["complete", "provisional"], "description": "provisional: this year's or the next 60 days' holiday notice is missing (deadlines count only the statutory days off)"}}, ["status", "calendar"]))}}},
  "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "responses": {"200": resp("The OpenAPI document", obj({"openapi": S, "info": {"type": "object", "additionalProperties": True}, "paths": {"type": "object", "additionalProperties": True}}, ["openapi", "info", "paths"]))}}},
  "/v1/catalogue": {"get": {"summary": "The 一件事 catalogue in force (standard 5.1): bundles (主项), situations (情形项), their items with units, time limits and materials", "operationId": "catalogue",
     "responses": {"200": resp("The catalogue", obj({"version": {"type": "integer", "minimum": 1}, "bundles": {"type": "array", "items": ref("Bundle")}}, ["version", "bundles"]))}}},
  "/v1/catalogue/{bundle_id}": {"get": {"summary": "One bundle of the catalogue in force", "operationId": "catalogueBundle",
     "parameters": [{"name": "bundle_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9_]+$"}}],
     "responses": {"200": resp("The bundle, with the catalogue version", {"allOf": [ref("Bundle"), obj({"version": {"type": "integer", "minimum": 1}}, ["version"])]}), **errors("404")}}},
  "/v1/guide": {"get": {"summary": "A bundle's guide (办事指南, Table A.1), from the catalogue in force", "operationId": "guide",
     "parameters": [{"name": "bundle", "in": "query", "required": False, "schema": {"type": "string", "pattern": "^[a-z0-9_]+$", "default": "birth"}}],
     "responses": {**errors("404"), "200": resp("Guide", obj({"name": S, "scope": S, "materials": {"type": "array", "items": obj({"material": S, "name": S, "data_sharing": B}, ["material", "name", "data_sharing"])}, "time_limit": obj({"working_days": I, "text": S}, ["working_days", "text"]), "fees": S, "delivery": {"type": "array", "items": S}, "consultation": obj({"phone": S, "online": S, "onsite": S}), "address_and_hours": obj({"address": S, "hours": S}),
     "faq": {"type": "array", "items": obj({"q": S, "a": S}, ["q", "a"])},
     "commitment_template": obj({"title": S, "paragraphs": {"type": "array", "items": S}, "signature": S}, ["title", "paragraphs", "signature"])},
     ["name", "materials", "time_limit", "consultation"]))}}},
  "/v1/cases/{case_id}/corrections": {"post": {"summary": "Correct a completed case (owner): the resubmission rules apply (immutable fields, the dependency table); each department whose result depends on the change reviews and reissues; replaced certificates become superseded; the case is archived again", "operationId": "correctAfterCompletion", "security": sec,
     "parameters": [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}],
     "requestBody": json_body(obj({"corrections": ref("FormPatch"), "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                                   "materials": {"type": "array", "items": S}}, ["corrections", "reason"])),
     "responses": {"202": resp("The correction", obj({"correction_id": S, "status": {"type": "string", "enum": ["in_review", "completed"]}, "case_id": S,
                                                      "changes": {"type": "array", "items": S}, "from_step": {"type": ["string", "null"]}}, ["correction_id", "status"])),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("not_completed (the case is not completed) or correction_in_review (another is in review)")}}},
  "/v1/cases/{case_id}/certificates": {"get": {"summary": "The case's electronic certificates, one per result document (owner; officers and supervisors who may see the case: supervisors see masked numbers and no token)", "operationId": "listCertificates", "security": sec,
     "parameters": [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}],
     "responses": {"200": resp("Certificates", obj({"certificates": {"type": "array", "items": ref("Certificate")}}, ["certificates"])), **errors("401", "404")}}},
  "/v1/verify/{cert_id}": {"get": {"summary": "Verify a certificate (no token): valid, its status and the holder masked; an altered or forged token is {valid: false} and nothing else", "operationId": "verifyCertificate",
     "parameters": [{"name": "cert_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "t", "in": "query", "required": False, "schema": {"type": "string"}, "description": "the check code of the certificate's verify_url (its QR code: 16 characters), or the certificate's signed token"}],
     "description": "A browser (Accept naming text/html before any JSON type) gets the same verdict as a Chinese page; any other caller gets JSON.",
     "responses": {"200": with_html(resp("Verification", obj({"valid": B, "status": {"type": "string", "enum": ["valid", "superseded", "revoked"]}, "cert_id": S, "kind": S, "number": S,
                                                    "issued_at": DT, "issuer": S, "holder": S, "superseded_by": S}, ["valid"]))),
                   "404": err("No certificate id in the path")}}},
  "/.well-known/onething-keys.json": {"get": {"summary": "The public keys that sign certificates (a JWK set; keys rotated out stay listed), for verifying offline", "operationId": "certificateKeys",
     "responses": {"200": resp("JWK set", obj({"keys": {"type": "array", "items": obj({"kty": S, "crv": S, "alg": S, "use": S, "kid": S, "x": S, "y": S}, ["kty", "kid"])}}, ["keys"]))}}},
  "/v1/sites": {"get": {"summary": "Service centres and hospital windows: where to apply and pick up results, with address and hours (operator data; the built-in sample has one service centre per county and one site per midwifery institution)", "operationId": "listSites",
     "parameters": [{"name": "county", "in": "query", "required": False, "description": "a division code prefix (33, 3301, 330106)", "schema": {"type": "string", "pattern": "^([0-9]{2}){1,3}$"}}],
     "responses": {"200": resp("Sites", obj({"sites": {"type": "array", "items": obj({"site_id": S, "name": S, "kind": {"type": "string", "enum": ["service_center", "hospital"]}, "county_code": S, "address": S,
                                                                                     "hours": {"type": "array", "items": obj({"start": S, "end": S}, ["start", "end"]), "description": "periods on working days (Beijing time)"},
                                                                                     "windows": I, "pickup": B, "phone": S, "slot_minutes": I, "slot_capacity": I},
                                                                                    ["site_id", "name", "kind", "county_code", "address", "hours", "windows", "pickup", "phone"])}}, ["sites"])),
                   **errors("400")}}},
  "/v1/sites/{site_id}/slots": {"get": {"summary": "A site's appointment slots of a day (none on a day off), with what is booked", "operationId": "listSlots",
     "parameters": [{"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "date", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}}],
     "responses": {"200": resp("Slots", obj({"site_id": S, "date": {"type": "string", "format": "date"},
                                             "slots": {"type": "array", "items": obj({"start": DT, "end": DT, "capacity": I, "booked": I}, ["start", "end", "capacity", "booked"])}}, ["slots"])),
                   **errors("400", "404")}}},
  "/v1/sites/{site_id}/appointments": {"get": {"summary": "A site's appointments of a day, for its window officers (the token's site claim, if any, must name it)", "operationId": "listSiteAppointments", "security": sec,
     "parameters": [{"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "date", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}}],
     "responses": {"200": resp("Appointments", obj({"site_id": S, "date": {"type": "string", "format": "date"}, "appointments": {"type": "array", "items": ref("Appointment")}}, ["appointments"])),
                   **errors("400", "401", "403", "404")}}},
  "/v1/appointments": {
     "post": {"summary": "Book a slot (guardian): never overbooked; one active appointment per guardian and purpose; at most 3 bookings a day (cancelled ones count) and no further ahead than 14 days (400 too_far)", "operationId": "book", "security": sec,
       "requestBody": json_body(obj({"site_id": S, "start": DT, "purpose": {"type": "string", "enum": ["apply", "pickup"]}, "case_id": S}, ["site_id", "start", "purpose"])),
       "responses": {"201": resp("Booked", ref("Appointment")), **errors("400", "401", "403", "413", "415"), "409": err("slot_full (the slot is full), already_booked (an active appointment for this purpose) or limit_reached (the day's bookings)")}},
     "get": {"summary": "The guardian's own appointments", "operationId": "myAppointments", "security": sec,
       "responses": {"200": resp("Appointments", obj({"appointments": {"type": "array", "items": ref("Appointment")}, "next_cursor": NEXT}, ["appointments", "next_cursor"])), **errors("401", "403")}}},
  "/v1/appointments/{appointment_id}": {"delete": {"summary": "Cancel one's appointment (again: the same answer)", "operationId": "cancelAppointment", "security": sec,
     "parameters": [{"name": "appointment_id", "in": "path", "required": True, "schema": {"type": "string"}}],
     "responses": {"200": resp("Cancelled", ref("Appointment")), **errors("401", "403", "404")}}},
  "/v1/applications": {"post": {"summary": "Submit the one form", "operationId": "submitApplication", "security": sec,
     "description": "Guardians apply online (zlb_app, zj_web) for their own child (the token's sub must be the applicant or a parent); window officers enter offline applications on their own window's channel (dept service_center → service_center, hospital → hospital). The same Idempotency-Key with the same body returns the same case (header Idempotent-Replayed: true); with another body, 409.",
     "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 128}}],
     "requestBody": {"required": True, "content": {"application/json": {"schema": ref("ApplicationForm"), "example": EXAMPLE_FORM}}},
     "responses": {"202": {**resp("Submitted; acceptance runs next", obj({"case_id": S, "status": status_enum, "channel": S, "version": I, "submitted_at": DT, "links": obj({"self": S}, ["self"])}, ["case_id", "status"]),
                                  {"Location": {"description": "the case: /v1/cases/{case_id}", "schema": {"type": "string"}},
                                   "Idempotent-Replayed": {"description": "true when this is the answer to an earlier request with the same key", "schema": {"type": "string", "enum": ["true"]}}}),
                           "links": {op: {"operationId": op, "parameters": {"case_id": "$response.body#/case_id"}}
                                     for op in ["getCase", "addMaterial", "resubmit", "withdraw", "rate", "complain"]}},
                   **errors("400", "401", "403", "413", "415", "503"),
                   "409": err("Idempotency key reused with another body; or duplicate_newborn: the newborn (mother, birth date, birth order) already has a live case (error.existing_case_id when the caller owns it, is its mother or father, or is a window officer)"),
                   "429": {**err("Too many applications from this guardian today, or too many unfinished cases"),
                           "headers": {"Retry-After": {"description": "seconds", "schema": I}}}}}},
  "/v1/births": {"post": {"summary": "A midwifery institution's delivery record (hospital officers, or the hospital's system)", "operationId": "recordBirth", "security": sec,
     "description": "What a birth medical certificate certifies. An application matches a record when institution, mother's ID number, birth order and birth time (to the minute) agree; sex, weight, length or gestational weeks that differ make the case incomplete; no record sends the hospital step to an officer. The same record again is 200 with the same id; a different record of the same birth is 409. A record is accepted only from the institution it names: the caller's hospital claim must equal institution_code (403 otherwise, also for an account bound to no institution); an institution data sharing does not know is 400 (code unknown). birth_time is kept in Beijing time whatever offset it is sent with.",
     "requestBody": json_body(obj({"institution_code": NS, "mother_id_number": ID, "birth_time": DT, "sex": {"type": "string", "enum": ["male", "female"]},
                                   "birth_order": {"type": "integer", "minimum": 1, "maximum": 9}, "multiple_birth": {"type": "integer", "minimum": 1, "maximum": 9},
                                   "weight_g": {"type": "integer", "minimum": 300, "maximum": 8000}, "length_cm": {"type": "integer", "minimum": 20, "maximum": 75},
                                   "gestational_weeks": {"type": "integer", "minimum": 20, "maximum": 45}},
                                  ["institution_code", "mother_id_number", "birth_time", "sex", "weight_g", "length_cm", "gestational_weeks"])),
     "responses": {"201": resp("Recorded", obj({"birth_id": S}, ["birth_id"])), "200": resp("The same record again", obj({"birth_id": S}, ["birth_id"])),
                   **errors("400", "401", "403", "413", "415"), "409": err("A different record of this birth exists; or conflicting_record: another institution filed this birth (the same mother, birth minute and order): refused and raised to the supervision lead")}}},
    "/v1/births/{birth_id}": {"put": {"summary": "The institution corrects its own delivery record (sex, weight, length, gestational weeks, multiple birth) until a case uses it", "operationId": "replaceBirth", "security": sec,
     "parameters": [{"name": "birth_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}],
     "description": "The body is the whole record. What identifies the birth (institution, mother's ID number, birth time, birth order) cannot change (400 immutable). Another institution's record is 404. Once a live case holds the newborn the record is in use (409 in_use).",
     "requestBody": json_body(obj({"institution_code": NS, "mother_id_number": ID, "birth_time": DT, "sex": {"type": "string", "enum": ["male", "female"]},
                                   "birth_order": {"type": "integer", "minimum": 1, "maximum": 9}, "multiple_birth": {"type": "integer", "minimum": 1, "maximum": 9},
                                   "weight_g": {"type": "integer", "minimum": 300, "maximum": 8000}, "length_cm": {"type": "integer", "minimum": 20, "maximum": 75},
                                   "gestational_weeks": {"type": "integer", "minimum": 20, "maximum": 45}},
                                  ["institution_code", "mother_id_number", "birth_time", "sex", "weight_g", "length_cm", "gestational_weeks"])),
     "responses": {"200": resp("Corrected", obj({"birth_id": S}, ["birth_id"])), **errors("400", "401", "403", "404", "413", "415"), "409": err("in_use: a case uses the record")}}},
  "/v1/cases/{case_id}/withdraw": {"post": {"summary": "Withdraw while submitted, incomplete or returned", "operationId": "withdraw", "security": sec, "parameters": [case_id],
     "description": "The owner, or the window officer of an offline case. The case ends as withdrawn and the newborn may be applied for again. A case left incomplete or returned longer than the configured limit (default 90 days) is withdrawn by the system, and the guardian is told.",
     "requestBody": json_body(obj({"reason": {"type": ["string", "null"], "maxLength": 500}})),
     "responses": {"200": resp("Withdrawn", obj({"case_id": S, "status": status_enum, "version": I, "current_step": {"type": ["string", "null"]}}, ["case_id", "status", "version"])),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("Not submitted, incomplete or returned")}}},
  "/v1/cases/{case_id}/confirm-parent": {"post": {"summary": "A parent the case names confirms it in their own account", "operationId": "confirmParent", "security": sec, "parameters": [case_id],
     "description": "The mother's confirmation of a case awaiting it (an application by a father no marriage record binds to her) starts acceptance and claims the newborn (409 duplicate_newborn if another live case holds it), and withdraws every other unconfirmed case naming her for this newborn. The named father's confirmation records his consent. Confirming again changes nothing. Anyone not named as a parent: 404.",
     "responses": {"200": resp("The case now", obj({"case_id": S, "status": status_enum, "version": I, "current_step": {"type": ["string", "null"]}}, ["case_id", "status", "version"])), **errors("400", "401", "403", "404"), "409": err("duplicate_newborn, or the case is finished")}}},
  "/v1/cases/{case_id}/decline": {"post": {"summary": "The named parent who did not apply refuses a case awaiting their confirmation (it is withdrawn)", "operationId": "declineCase", "security": sec, "parameters": [case_id],
     "requestBody": json_body(obj({"reason": {"type": ["string", "null"], "maxLength": 500}})),
     "responses": {"200": resp("The case now", obj({"case_id": S, "status": status_enum, "version": I, "current_step": {"type": ["string", "null"]}}, ["case_id", "status", "version"])), **errors("400", "401", "403", "404", "413", "415"), "409": err("not_awaiting_confirmation")}}},
  "/v1/cases/{case_id}/object": {"post": {"summary": "A parent the case names objects before completion: the police review the case with the objection as its reason", "operationId": "objectToCase", "security": sec, "parameters": [case_id],
     "requestBody": json_body(obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500}}, ["reason"])),
     "responses": {"200": resp("The case now", obj({"case_id": S, "status": status_enum, "version": I, "current_step": {"type": ["string", "null"]}}, ["case_id", "status", "version"])), **errors("400", "401", "403", "404", "413", "415"), "409": err("finished: the case is finished")}}},
  "/v1/cases/{case_id}/void": {"post": {"summary": "Void a fraudulent case (police of the case's region; a window officer of the site that took an offline case)", "operationId": "voidCase", "security": sec, "parameters": [case_id],
     "description": "The case ends as voided: its newborn claim is released, its certificates are revoked (verification says so), its numbers superseded and never issued again; the applicant and the other named parent are told.",
     "requestBody": json_body(obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500}}, ["reason"])),
     "responses": {"200": resp("The case now", obj({"case_id": S, "status": status_enum, "version": I, "current_step": {"type": ["string", "null"]}}, ["case_id", "status", "version"])), **errors("400", "401", "403", "404", "413", "415"), "409": err("already_voided")}}},
  "/v1/cases/{case_id}/premium-payment": {"post": {"summary": "Record that the newborn's medical insurance premium was paid (medical security): the amount is the premium notice's, the time no earlier than the enrolment that sent it and not in the future (400 otherwise; nothing is recorded)", "operationId": "recordPremiumPayment", "security": sec, "parameters": [case_id],
     "requestBody": json_body(obj({"paid_at": DT, "amount_cny": {"type": "integer", "minimum": 1, "maximum": 100000}, "receipt": {"type": "string", "minLength": 1, "maxLength": 64}}, ["paid_at", "amount_cny", "receipt"])),
     "responses": {"200": resp("Recorded", obj({"case_id": S, "version": I, "medical_insurance": results["properties"]["medical_insurance"]}, ["case_id", "version"])),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("Not enrolled, or already paid")}}},
  "/v1/cases/{case_id}/premium-payment/reversal": {"post": {"summary": "Reverse a premium payment recorded by mistake (a medical-security supervisor of the case's region, with a reason): the premium is due again and the family gets the premium notice again; the timeline keeps what was reversed and why", "operationId": "reversePremiumPayment", "security": sec, "parameters": [case_id],
     "requestBody": json_body(obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500}}, ["reason"])),
     "responses": {"200": resp("Reversed", obj({"case_id": S, "version": I, "medical_insurance": results["properties"]["medical_insurance"]}, ["case_id", "version"])),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("not_paid")}}},
  "/v1/cases": {"get": {"summary": "The guardian's own cases, newest first", "operationId": "listCases", "security": sec, "parameters": PAGE,
     "responses": {"200": resp("Cases", obj({"cases": {"type": "array", "items": ref("CaseSummary")}, "next_cursor": NEXT}, ["cases", "next_cursor"])), **errors("400", "401", "403")}}},
  "/v1/cases/{case_id}": {"get": {"summary": "A case", "operationId": "getCase", "security": sec,
     "parameters": [case_id, {"name": "break_glass", "in": "query", "required": False,
                              "description": "Supervisors only: open the case in full for this reason code (the operator's list; these are the defaults). At most 5 a day per supervisor (then 429 with Retry-After); each read is recorded in the audit trail, told to the region's supervision lead and listed by GET /v1/supervision/break-glass",
                              "schema": {"type": "string", "enum": ["complaint_investigation", "fraud_investigation", "legal_request"]}}],
     "description": "The owner, the window officer who entered it (or one of the same site), and the departments whose step it reached see it in full (Case); supervisors and the health lead unit see the MaskedCase allow-list, unless a supervisor gives a break_glass reason; everyone else gets 404. Every full view is recorded in the audit trail.",
     "responses": {"200": resp("The case", {"oneOf": [ref("Case"), ref("MaskedCase")]}), **errors("400", "401", "403", "404"),
                   "429": {**err("The supervisor's break-glass reads of the day are used up"),
                           "headers": {"Retry-After": {"description": "seconds until the next day (Beijing time)", "schema": I}}}}}},
  "/v1/cases/{case_id}/materials": {"post": {"summary": "Register a material and get its upload URL", "operationId": "addMaterial", "security": sec, "parameters": [case_id],
     "description": "Then PUT the bytes to upload_url with upload_headers and the declared Content-Length before expires_at, once: a second PUT after the bytes are stored is refused (409 locally, 412 from S3). The bytes must match the declared type (checked by their magic bytes) and, when sha256 was given, that digest. At most 20 materials and 50 MiB per case.",
     "requestBody": json_body(obj({"kind": {"type": "string", "enum": ["mother_id_card", "father_id_card", "household_register", "marriage_certificate", "commitment", "guardianship_proof", "paternity_proof", "other"]},
                                   "content_type": {"type": "string", "enum": ["application/pdf", "image/jpeg", "image/png"]},
                                   "size": {"type": "integer", "minimum": 1, "maximum": 10485760},
                                   "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$", "description": "optional: the bytes' SHA-256; then only those bytes are accepted (on AWS S3 checks it)"}},
                                  ["kind", "content_type", "size"])),
     "responses": {"201": resp("Upload ticket", obj({"material_id": S, "upload_url": S, "upload_method": S, "expires_at": DT, "kind": S, "content_type": S, "size": I,
                                                      "upload_headers": {"type": "object", "additionalProperties": S,
                                                                         "description": "headers the PUT must send as they are (on AWS signed into the URL, including If-None-Match: * that makes it write-once)"}},
                                                     ["material_id", "upload_url", "expires_at", "upload_headers"])),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("The case is finished; or limit_reached: 20 materials or 50 MiB per case")}}},
  "/v1/cases/{case_id}/resubmit": {"post": {"summary": "Resubmit after incomplete or returned", "operationId": "resubmit", "security": sec, "parameters": [case_id],
     "description": "The owner, or the window officer of an offline case (人工代办). corrections is a JSON merge patch (RFC 7386) over the form; channel, window, mother.id_number, newborn.birth_time, newborn.birth_order and the applicant cannot change (400 immutable), and the owner stays a parent. Data sharing is asked again. The case resumes at the earliest of the returned step and the earliest step whose result depends on a corrected field (newborn and parents' names: birth_certificate; household and father: household_registration; insurance; social_security_card; delivery: issuance); replaced numbers go to results.superseded.",
     "requestBody": json_body(obj({"corrections": {"type": "object", "additionalProperties": True, "description": "A JSON merge patch (RFC 7386) over the application form"}, "materials": {"type": "array", "items": S}})),
     "responses": {"202": resp("Resumed", obj({"case_id": S, "status": status_enum, "version": I, "current_step": {"type": ["string", "null"]}}, ["case_id", "status", "version"])),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("Not incomplete or returned")}}},
  "/v1/cases/{case_id}/rating": {"post": {"summary": "Rate the finished case (好差评): one rating plus one follow-up", "operationId": "rate", "security": sec, "parameters": [case_id],
     "description": "Levels: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意. Levels 1-2 are a bad rating: the responsible unit's return visit and rectification deadlines are set (configurable, 1 and 15 working days).",
     "requestBody": json_body(obj({"level": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": {"type": ["string", "null"], "maxLength": 500}, "step": STEP_ENUM}, ["level"])),
     "responses": {"201": resp("Recorded", ref("Rating")),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("Not finished, or already rated twice")}}},
  "/v1/cases/{case_id}/complaints": {"post": {"summary": "Complain (投诉); routed to the responsible unit", "operationId": "complain", "security": sec, "parameters": [case_id],
     "requestBody": json_body(obj({"text": {"type": "string", "minLength": 1, "maxLength": 2000}, "step": STEP_ENUM}, ["text"])),
     "responses": {"201": {**resp("Recorded", obj({"complaint_id": S, "text": S, "at": DT, "dept": S, "status": S}, ["complaint_id", "dept", "status"])),
                           "links": {"answerComplaint": {"operationId": "answerComplaint", "parameters": {"case_id": "$request.path.case_id", "complaint_id": "$response.body#/complaint_id"}}}},
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("limit_reached: 10 complaints per case")}}},
  "/v1/cases/{case_id}/complaints/{complaint_id}/answer": {"post": {"summary": "Answer a complaint (the routed department or a supervisor)", "operationId": "answerComplaint", "security": sec,
     "parameters": [case_id, {"name": "complaint_id", "in": "path", "required": True, "schema": S}],
     "requestBody": json_body(obj({"answer": {"type": "string", "minLength": 1, "maxLength": 2000}}, ["answer"])),
     "responses": {"200": resp("Answered", obj({"complaint_id": S, "status": S, "answer": {"type": ["string", "null"]}}, ["complaint_id", "status"])), **errors("400", "401", "403", "404", "413", "415"), "409": err("Already answered")}}},
  "/v1/tasks": {"get": {"summary": "Open manual-review tasks of the officer's department, region and hospital: overdue first, oldest due first", "operationId": "listTasks", "security": sec,
     "parameters": [{"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": ["open"]}},
                    {"name": "step", "in": "query", "required": False, "schema": STEP_ENUM},
                    {"name": "overdue", "in": "query", "required": False, "schema": {"type": "string", "enum": ["true", "false"]}}] + PAGE,
     "responses": {"200": resp("Tasks", obj({"tasks": {"type": "array", "items": ref("Task")}, "next_cursor": NEXT}, ["tasks", "next_cursor"])), **errors("400", "401", "403")}}},
  "/v1/tasks/{task_id}": {"get": {"summary": "The officer's task view: the facts the step decides on, the records it matched, the materials and the checklist", "operationId": "getTask", "security": sec,
     "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}],
     "description": "A task of the officer's department and region (a hospital officer's hospital); any other is 404. facts are the form fields the step decides on, unmasked for that department (DOMAIN.md 'What each department checks'); records are the data-sharing and delivery records the step matched, with mismatches listing what the form says that a record does not. Reading a task view is audited.",
     "responses": {"200": resp("The task view", obj({
         "task_id": S, "case_id": S, "step": STEP_ENUM, "dept": S, "region": NS_, "due_at": NDT, "version": I,
         "open": {"type": "boolean", "description": "whether the task still waits for a decision"},
         "reasons": {"type": "array", "items": S, "description": "why this task exists (Chinese)"},
         "facts": {"type": "object", "description": "the form fields this step decides on, in the form's shape"},
         "records": obj({"mismatches": {"type": "array", "items": obj({"field": S, "form": S, "record": NS_, "text": S}, ["field", "form", "record", "text"])},
                         "birth": {"type": "object"}, "institution": {"type": "object"}, "mother": {"type": "object"}, "father": {"type": "object"},
                         "household": {"type": "object"}, "marriage": {"type": "object"}, "issued": {"type": "object"}, "deliveries": {"type": "array", "items": {"type": "object"}}}, ["mismatches"]),
         "materials": {"type": "array", "items": obj({"material_id": NS_, "kind": S, "name": S, "source": {"type": "string", "enum": ["data_sharing", "upload", "commitment"]}}, ["material_id", "kind", "name", "source"])},
         "checklist": {"type": "array", "items": obj({"item_id": S, "text": S}, ["item_id", "text"])}},
         ["task_id", "case_id", "step", "dept", "region", "due_at", "version", "open", "reasons", "facts", "records", "materials", "checklist"])),
                   **errors("401", "403", "404")}}},
  "/v1/tasks/{task_id}/decision": {"post": {"summary": "Decide a task: approve, return for correction, or reject", "operationId": "decide", "security": sec,
     "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": S}],
     "description": "reasons are required unless approve. version is the task's version as listed; a stale version, or a task already decided, is 409. A police approval must carry data.address_code (a Zhejiang county code in force) when the household's code is retired or unknown, and data.household_number when the household register was uploaded; a medical-security approval must carry data.amount_cny when no premium is configured for the city and year.",
     "requestBody": json_body(obj({"decision": {"type": "string", "enum": ["approve", "return", "reject"]}, "reasons": {"type": "array", "items": S}, "version": I, "checked": {"type": "array", "maxItems": 20, "items": S, "description": "the item_ids of the task view's checklist the officer confirmed (recorded in the timeline)"}, "data": obj({"address_code": {"type": "string", "description": "the household's county code in force (police)"}, "household_number": {"type": "string", "description": "the household number on the uploaded register (police)"}, "amount_cny": {"type": "integer", "minimum": 1, "description": "the premium, when none is configured (medical security)"}, "move_reason": {"type": "string", "maxLength": 200, "description": "police: why the newborn is registered in another county than the household record's (required for such an address_code; recorded in the timeline)"}})}, ["decision", "version"])),
     "responses": {"200": resp("Decided", obj({"task_id": S, "decision": S, "case_id": S, "status": status_enum, "version": I}, ["task_id", "decision", "case_id", "status", "version"])),
                   **errors("400", "401", "403", "404", "413", "415"), "409": err("Stale version or already decided")}}},
  "/v1/cases/{case_id}/materials/{material_id}": {"get": {"summary": "A short-lived download URL of an uploaded material", "operationId": "getMaterial", "security": sec,
     "parameters": [case_id, {"name": "material_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}}],
     "description": "The owner, the offline case's window officers and the departments with a step on the case (in their region). The URL serves the bytes as an attachment (Content-Disposition: attachment; locally also X-Content-Type-Options: nosniff). Every grant to an officer is recorded in the case timeline (material_viewed) and in the audit trail.",
     "responses": {"200": resp("Download", obj({"material_id": S, "kind": S, "content_type": S, "size": I, "sha256": NS_, "download_url": S, "expires_at": DT},
                                               ["material_id", "kind", "content_type", "size", "download_url", "expires_at"])),
                   **errors("401", "403", "404"), "409": err("Not uploaded yet, or (limit_reached) the case already recorded 400 grants to officers")}}},
  "/v1/feedback": {"get": {"summary": "The department's inbox of bad ratings and complaints (its region and hospital)", "operationId": "listFeedback", "security": sec,
     "parameters": [{"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": ["open", "closed", "all"]}}] + PAGE,
     "responses": {"200": resp("Items", obj({"items": {"type": "array", "items": ref("FeedbackItem")}, "next_cursor": NEXT}, ["items", "next_cursor"])), **errors("400", "401", "403")}}},
  "/v1/feedback/{feedback_id}/answer": {"post": {"summary": "Answer a complaint or bad rating (closes a complaint)", "operationId": "answerFeedback", "security": sec,
     "parameters": [FEEDBACK_ID], "requestBody": json_body(obj({"text": {"type": "string", "minLength": 1, "maxLength": 2000}}, ["text"])),
     "responses": {"200": resp("The item", ref("FeedbackItem")), **errors("400", "401", "403", "404", "413", "415"), "409": err("Already answered")}}},
  "/v1/feedback/{feedback_id}/return-visit": {"post": {"summary": "Record the return visit (回访)", "operationId": "returnVisit", "security": sec,
     "parameters": [FEEDBACK_ID], "requestBody": json_body(obj({"visited_at": DT, "summary": {"type": "string", "minLength": 1, "maxLength": 2000}}, ["visited_at", "summary"])),
     "responses": {"200": resp("The item", ref("FeedbackItem")), **errors("400", "401", "403", "404", "413", "415")}}},
  "/v1/feedback/{feedback_id}/rectification": {"post": {"summary": "Record the rectification (整改反馈); a bad rating visited back and rectified is closed", "operationId": "rectify", "security": sec,
     "parameters": [FEEDBACK_ID], "requestBody": json_body(obj({"summary": {"type": "string", "minLength": 1, "maxLength": 2000}}, ["summary"])),
     "responses": {"200": resp("The item", ref("FeedbackItem")), **errors("400", "401", "403", "404", "413", "415")}}},
  "/v1/supervision/escalations": {"get": {"summary": "Steps overdue by more than one working day (督办), in the supervisor's region, oldest due first", "operationId": "listEscalations", "security": sec,
     "parameters": PAGE,
     "responses": {"200": resp("Escalations", obj({"items": {"type": "array", "items": obj({"case_id": S, "step": S, "dept": S, "region": {"type": ["string", "null"]}, "due_at": DT, "overdue_working_days": I},
                                                                                         ["case_id", "step", "dept", "due_at", "overdue_working_days"])},
                                                  "next_cursor": NEXT}, ["items", "next_cursor"])), **errors("400", "401", "403")}}},
  "/v1/supervision/break-glass": {"get": {"summary": "Break-glass reads of cases in the supervisor's region, newest first", "operationId": "listBreakGlassReads", "security": sec,
     "parameters": PAGE,
     "responses": {"200": resp("Break-glass reads", obj({"items": {"type": "array", "items": obj({"supervisor": S, "case_id": S, "reason_code": S, "reason": {"type": "string", "description": "the reason's Chinese name"}, "region": {"type": "string", "description": "the county the case is counted in"}, "at": DT},
                                                                                         ["supervisor", "case_id", "reason_code", "at"])},
                                                  "next_cursor": NEXT}, ["items", "next_cursor"])), **errors("400", "401", "403")}}},
  "/v1/supervision/report": {"get": {"summary": "Supervision figures for cases submitted in a period (personal data masked)", "operationId": "report", "security": sec,
     "parameters": [{"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
                    {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
                    {"name": "region", "in": "query", "required": False, "description": "a division code prefix within the supervisor's region (default: theirs)",
                     "schema": {"type": "string", "pattern": "^([0-9]{2}){1,3}$"}},
                    {"name": "dept", "in": "query", "required": False, "schema": {"type": "string", "enum": ["hospital", "police", "medical_insurance", "hrss", "service_center", "health"]}},
                    {"name": "limit", "in": "query", "required": False, "description": "rows of per_case in this page (default 100)", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "per_case_next_cursor of the previous page"}],
     "description": "Summed from aggregates the stores keep as cases change (one read per month, whatever the number of cases). Case figures count each case once, in the county that accepted it; department, region and follow-up figures count the steps and items handled in the region (and of the department, if asked). per_case is paged.",
     "responses": {"200": resp("Report", obj({
        "period": obj({"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}, "timezone": S}, ["from", "to"]),
        "generated_at": DT,
        "cases": obj({"total": I, "by_status": {"type": "object", "additionalProperties": I}, "completed": I, "completed_within_4_working_days": I,
                      "on_time_rate_percent": NNUM, "joint_handling_executed": {"type": "integer", "description": "cases in which at least two units did their part through the joint flow, finished or not (8.1.3); not the same as completed"}}, ["total", "completed"]),
        "departments": {"type": "array", "items": obj({"dept": S, "dept_name": S, "cases_handled": I, "on_time": I, "on_time_rate_percent": NNUM,
                                                        "median_handling_working_hours": NNUM, "max_handling_working_hours": NNUM, "open_tasks": I,
                                                        "open_overdue_tasks": I, "returned": I, "rejected": I}, ["dept", "cases_handled", "on_time"])},
        "per_case": {"type": "array", "items": obj({"case_id": S, "status": status_enum, "channel": S, "region": S, "submitted_at": DT, "accepted_at": NDT, "due_at": NDT,
                                                     "finished_at": NDT, "completed_within_4_working_days": {"type": ["boolean", "null"]}, "overdue": B, "archived": B,
                                                     "guardian_working_days": {"type": "integer", "description": "working days the case waited on the guardian after returns (its clock stopped), apart from the departments' time"}},
                                                    ["case_id", "status"])},
        "per_case_next_cursor": NEXT,
        "bundles": {"type": "array", "description": "the cases of each 一件事 (catalogue bundle) in the period; birth first",
                    "items": obj({"bundle": S, "total": I, "completed": I, "completed_on_time": I, "on_time_rate_percent": NNUM}, ["bundle", "total", "completed", "completed_on_time"])},
        "follow_ups": obj({"open": I, "closed": I, "overdue": I}, ["open", "closed", "overdue"]),
        "ratings": obj({"by_level": {"type": "object", "additionalProperties": I}, "bad_ratings_open": I}, ["by_level", "bad_ratings_open"]),
        "complaints": obj({"open": I, "answered": I}, ["open", "answered"]),
        "materials": obj({"by_data_sharing": I, "uploaded": I, "data_sharing_rate_percent": NNUM}, ["by_data_sharing", "uploaded"]),
        "archive": obj({"finished_cases": I, "archived": I, "completeness_percent": NNUM}, ["finished_cases", "archived"]),
        "calendar": obj({"known_years": {"type": "array", "items": I}, "unknown_year_policy": S}),
        },
                                             ["period", "cases", "departments", "per_case", "ratings", "complaints", "materials", "archive"])), **errors("400", "401", "403")}}},
 },
}
# Tags, security and the busy answer, for every operation.
TAGS = [("public", "No token: liveness, this document, the guide, the sites, certificate verification"),
        ("applications", "Submitting the one form"),
        ("cases", "A case: reading it, its materials, resubmission"),
        ("feedback", "Ratings (好差评) and complaints"),
        ("tasks", "Department officers' manual review"),
        ("supervision", "Supervisors' figures"),
        ("appointments", "Appointments at sites' windows")]
# The routes served without a token, from the API's route table (`onething routes --json`).
import os
ROUTES = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "infra", "routes.json")))["routes"]
PUBLIC = {r["path"] for r in ROUTES if r["who"] == "public"}
def tag_of(path):
    if path in PUBLIC: return "public"
    if "appointments" in path: return "appointments"
    if path in ("/v1/applications", "/v1/births"): return "applications"
    if "/rating" in path or "/complaints" in path: return "feedback"
    if path.startswith("/v1/tasks"): return "tasks"
    if path.startswith("/v1/supervision"): return "supervision"
    return "cases"
doc["tags"] = [{"name": n, "description": d} for n, d in TAGS]
# Every answer carries X-Request-Id: the caller's own when usable (1-64 of A-Z a-z 0-9 - _ .),
# otherwise a new one; logs and the audit trail name it.
REQUEST_ID = {"name": "X-Request-Id", "in": "header", "required": False,
              "description": "the caller's id for this request, echoed, logged and in the audit trail when usable (1-64 of A-Z a-z 0-9 - _ .); any other value is not an error: a new id is made instead",
              "schema": {"type": "string"}}
doc["components"]["parameters"] = {"RequestId": REQUEST_ID}
doc["components"]["headers"] = {"RequestId": {"description": "the request's id (the caller's X-Request-Id, or a new one)", "schema": {"type": "string"}}}
for path, ops in doc["paths"].items():
    for op in ops.values():
        op["parameters"] = list(op.get("parameters", [])) + [{"$ref": "#/components/parameters/RequestId"}]
        for r in op["responses"].values():
            if "$ref" in r: continue
            r.setdefault("headers", {})["X-Request-Id"] = {"$ref": "#/components/headers/RequestId"}
doc["security"] = sec
for path, ops in doc["paths"].items():
    for op in ops.values():
        op["tags"] = [tag_of(path)]
        if tag_of(path) == "public":
            op["security"] = []
        else:
            op["responses"].setdefault("503", std_errors["503"])
    # Every other POST honours an optional Idempotency-Key: the same key and body from the
    # same caller within 24 hours gets the first answer again (Idempotent-Replayed: true);
    # another body, or the first request still running, is 409.
    post = ops.get("post")
    if post and path != "/v1/applications":
        post.setdefault("parameters", []).append(
            {"name": "Idempotency-Key", "in": "header", "required": False,
             "description": "optional: a retry with the same key and body gets the first answer again (Idempotent-Replayed: true); another body is 409",
             "schema": {"type": "string", "minLength": 1, "maxLength": 128}})
        post["responses"].setdefault("409", err("Idempotency-Key reused with another body, or the same request still running"))

import sys
out = sys.argv[1] if len(sys.argv) > 1 else "functions/api/openapi.json"
json.dump(doc, open(out, "w"), ensure_ascii=False, indent=1)
print("wrote functions/api/openapi.json")

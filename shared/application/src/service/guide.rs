//! `GET /v1/guide?bundle=`: the public service guide (办事指南) of a bundle, its items,
//! units and time limits read from the catalogue in force.

use super::*;
use domain::catalogue::{Bundle, Version};

/// `GET /v1/guide?bundle=` (default `birth`): a bundle of the catalogue in force, or
/// `NotFound`.
pub async fn guide_of(app: &App, bundle: Option<&str>) -> Result<Value, ServiceError> {
    let version = app.catalogue().await?;
    let b = version
        .catalogue
        .bundle(bundle.unwrap_or("birth"))
        .ok_or(ServiceError::NotFound)?;
    Ok(if b.runs_on_engine() {
        birth_guide(&version, b)
    } else {
        bundle_guide(&version, b)
    })
}

fn unit_name(code: &str) -> &'static str {
    domain::catalogue::unit_name(code).unwrap_or("")
}

/// The items of a bundle's first situation, as the guide lists them.
fn steps(b: &Bundle) -> Vec<Value> {
    b.situations[0]
        .items
        .iter()
        .map(|i| {
            json!({
                "step": i.item_id,
                "name": i.name,
                "dept": i.unit,
                "dept_name": unit_name(&i.unit),
                "matters": i.matters,
                "working_days": i.working_days,
            })
        })
        .collect()
}

fn time_limit(b: &Bundle) -> Value {
    json!({
        "working_days": b.promise_working_days,
        "text": format!("应在 {} 个工作日内办结", b.promise_working_days),
    })
}

/// A bundle no engine runs yet: what the catalogue says of it.
fn bundle_guide(version: &Version, b: &Bundle) -> Value {
    let materials: Vec<Value> = b.situations[0]
        .items
        .iter()
        .flat_map(|i| &i.materials)
        .map(|m| json!({"material": m.kind, "name": m.name, "data_sharing": m.source.is_some()}))
        .collect();
    json!({
        "bundle": b.bundle_id,
        "catalogue_version": version.version,
        "name": b.name,
        "stage": b.stage,
        "materials": materials,
        "time_limit": time_limit(b),
        "steps": steps(b),
        "lead_unit": b.lead_unit,
        "lead_unit_name": unit_name(&b.lead_unit),
        "online": false,
        "consultation": {"phone": "12345", "onsite": "各级行政服务中心综合窗口"},
    })
}

/// The simple guide of Table A.1 for the birth bundle, or a bundle made of its items (a
/// 子项 of 出生: the same form and acceptance, fewer items).
fn birth_guide(version: &Version, b: &Bundle) -> Value {
    let matters: Vec<&String> = b.situations[0]
        .items
        .iter()
        .flat_map(|i| &i.matters)
        .collect();
    json!({
        "bundle": b.bundle_id,
        "catalogue_version": version.version,
        "stage": b.stage,
        "online": true,
        "name": if b.bundle_id == "birth" { "出生“一件事”" } else { b.name.as_str() },
        "scope": "全省各级助产机构内出生且符合落户政策的新生儿",
        "matters": matters,
        "materials": [
            {"material": "registration_form", "name": "出生“一件事”办理登记表",
             "data_sharing": false},
            {"material": "parents_id_cards", "name": "新生儿父母双方居民身份证",
             "data_sharing": true,
             "kinds": [MaterialKind::MotherIdCard.as_str(), MaterialKind::FatherIdCard.as_str()]},
            {"material": MaterialKind::HouseholdRegister.as_str(),
             "name": "新生儿拟落户方居民户口簿", "data_sharing": true},
            {"material": MaterialKind::MarriageCertificate.as_str(), "name": "新生儿父母结婚证",
             "data_sharing": true}
        ],
        "time_limit": time_limit(b),
        "fees": "不收费（不包括参保费用）",
        "delivery": ["mail", "pickup"],
        "delivery_text": "可邮寄送达或自行到指定地点领取",
        "consultation": {"phone": "12345", "online": "浙里办 APP / 浙江政务服务网", "onsite": "各级行政服务中心综合窗口、助产机构出生“一件事”专窗"},
        "address_and_hours": {"address": "各级行政服务中心综合窗口；分娩量较大的助产机构出生“一件事”办事专窗", "hours": "工作日 09:00-12:00, 13:30-17:00（法定节假日除外）"},
        "channels": ["zlb_app", "zj_web", "service_center", "hospital"],
        "steps": steps(b),
        "lead_unit": b.lead_unit,
        "lead_unit_name": unit_name(&b.lead_unit),
        "first_step": Step::Acceptance.as_str(),
        "faq": [
            {"q": "没有结婚证可以办理吗？",
             "a": "可以。随母落户的无需婚姻证明；随父落户而数据共享中没有婚姻登记记录的，可上传结婚证，或签署书面告知承诺书代替，由公安部门核查。"},
            {"q": "不同意数据共享可以办理吗？",
             "a": "可以，但需上传父母身份证、户口簿和婚姻证明等全部材料；同意数据共享的，这些材料无需上传。"},
            {"q": "新生儿医保从什么时候开始享受待遇？",
             "a": "在缴费期限内缴纳参保费用的，自出生之日起享受医保待遇；逾期缴费的，自缴费次日起享受。"},
            {"q": "材料不全会怎样？",
             "a": "系统会一次性告知需要补充的全部材料，补齐后重新提交即可，无需重新填写申请。"},
            {"q": "办理进度在哪里查看？",
             "a": "在浙里办或浙江政务服务网“我的申请”中查看；每个环节办结都会短信告知。"}
        ],
        "commitment_template": {
            "title": "出生“一件事”书面告知承诺书",
            "paragraphs": [
                "本人已知晓办理新生儿出生登记须提供父母婚姻关系证明。因（原因）：________________，现无法提供结婚证。",
                "本人郑重承诺：新生儿________与本人及________为亲生父母子女关系，本人与其母亲（父亲）________存在婚姻关系，所填报信息真实、准确、完整。",
                "本人知晓：如承诺不实，将承担由此产生的法律责任，已办理的户口登记等事项将予撤销，并记入个人信用记录。"
            ],
            "signature": "承诺人（签名）：________　公民身份号码：________________　日期：____年__月__日"
        },
    })
}

//! `GET /v1/guide`: the public service guide (办事指南).

use super::*;

/// The simple guide of Table A.1.
pub fn guide() -> Value {
    let steps: Vec<Value> = domain::flow::FLOW
        .iter()
        .map(|s| {
            json!({
                "step": s.name,
                "dept": s.dept,
                "dept_name": s.dept.name_zh(),
                "matters": s.matters,
            })
        })
        .collect();
    json!({
        "name": "出生“一件事”",
        "scope": "全省各级助产机构内出生且符合落户政策的新生儿",
        "matters": ["出生医学证明办理", "预防接种证办理", "户口登记", "医保参保登记", "社保卡办理", "生育保险待遇审核"],
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
        "time_limit": {"working_days": domain::flow::CASE_TIME_LIMIT_WORKING_DAYS, "text": "应在 4 个工作日内办结"},
        "fees": "不收费（不包括参保费用）",
        "delivery": ["mail", "pickup"],
        "delivery_text": "可邮寄送达或自行到指定地点领取",
        "consultation": {"phone": "12345", "online": "浙里办 APP / 浙江政务服务网", "onsite": "各级行政服务中心综合窗口、助产机构出生“一件事”专窗"},
        "address_and_hours": {"address": "各级行政服务中心综合窗口；分娩量较大的助产机构出生“一件事”办事专窗", "hours": "工作日 09:00-12:00, 13:30-17:00（法定节假日除外）"},
        "channels": ["zlb_app", "zj_web", "service_center", "hospital"],
        "steps": steps,
        "lead_unit": Dept::Health.as_str(),
        "first_step": Step::Acceptance.as_str(),
    })
}

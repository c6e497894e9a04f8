//! Electronic certificates (出生医学证明电子证照, A.5.2.1.2; downloadable results, 6.1.4): one
//! per result document, issued in the same write as the step that issues the result,
//! signed over its canonical content so that anyone holding the published keys can check
//! it offline. Replaced results (corrections) leave their certificates `superseded`,
//! pointing to the new one.

use crate::case::{Case, Time};
use crate::flow::Step;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    BirthMedicalCertificate,
    VaccinationCertificate,
    HouseholdRegistration,
    MedicalInsuranceEnrolment,
    SocialSecurityCard,
    MaternityBenefitDecision,
}

impl CertKind {
    /// The short code in a `cert_id`.
    pub fn code(self) -> &'static str {
        match self {
            CertKind::BirthMedicalCertificate => "BMC",
            CertKind::VaccinationCertificate => "VAC",
            CertKind::HouseholdRegistration => "HHR",
            CertKind::MedicalInsuranceEnrolment => "MIE",
            CertKind::SocialSecurityCard => "SSC",
            CertKind::MaternityBenefitDecision => "MBD",
        }
    }
    /// The step that issues it.
    pub fn step(self) -> Step {
        match self {
            CertKind::BirthMedicalCertificate | CertKind::VaccinationCertificate => {
                Step::BirthCertificate
            }
            CertKind::HouseholdRegistration => Step::HouseholdRegistration,
            CertKind::MedicalInsuranceEnrolment | CertKind::MaternityBenefitDecision => {
                Step::MedicalInsurance
            }
            CertKind::SocialSecurityCard => Step::SocialSecurityCard,
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            CertKind::BirthMedicalCertificate => "出生医学证明",
            CertKind::VaccinationCertificate => "预防接种证",
            CertKind::HouseholdRegistration => "户口登记证明",
            CertKind::MedicalInsuranceEnrolment => "城乡居民医疗保险参保登记证明",
            CertKind::SocialSecurityCard => "社会保障卡",
            CertKind::MaternityBenefitDecision => "生育津贴核定决定",
        }
    }
}

/// What a certificate certifies: its canonical content, signed as it serialises (fields
/// in this order, compact JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub cert_id: String,
    pub kind: CertKind,
    pub number: String,
    pub issued_at: Time,
    pub issuer: String,
    /// The newborn's name, masked (`王*溪`).
    pub holder: String,
}

impl Claims {
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("claims serialise")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    Valid,
    Superseded,
    Revoked,
}

/// An issued certificate as the case keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "StoredCertificate", try_from = "StoredCertificate")]
pub struct Certificate {
    pub claims: Claims,
    /// The signature: a JWS compact token (ES256) over the canonical claims.
    pub token: String,
    pub status: CertStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<Time>,
}

/// A certificate as stored: its token's payload is the canonical claims, so only the
/// token's header and signature are kept beside them (the header is the same for every
/// certificate of a key, which the case document's compression takes almost to nothing).
/// A token whose payload is not the claims' canonical form (none is issued so) and
/// records kept before this form are stored whole.
#[derive(Serialize, Deserialize)]
struct StoredCertificate {
    claims: Claims,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// The token's first part (its protected header, base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<String>,
    /// The token's last part (the signature, base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    status: CertStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    superseded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    superseded_at: Option<Time>,
}

/// The payload part of a token over `claims`.
fn payload_part(claims: &Claims) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    URL_SAFE_NO_PAD.encode(claims.canonical())
}

impl From<Certificate> for StoredCertificate {
    fn from(c: Certificate) -> Self {
        let parts: Vec<&str> = c.token.split('.').collect();
        let split = match parts.as_slice() {
            [h, p, s] if *p == payload_part(&c.claims) => Some((h.to_string(), s.to_string())),
            _ => None,
        };
        let (token, header, signature) = match split {
            Some((h, s)) => (None, Some(h), Some(s)),
            None => (Some(c.token), None, None),
        };
        StoredCertificate {
            claims: c.claims,
            token,
            header,
            signature,
            status: c.status,
            superseded_by: c.superseded_by,
            superseded_at: c.superseded_at,
        }
    }
}

impl TryFrom<StoredCertificate> for Certificate {
    type Error = String;
    fn try_from(s: StoredCertificate) -> Result<Self, String> {
        let token = match (s.token, s.header, s.signature) {
            (Some(t), _, _) => t,
            (None, Some(h), Some(sig)) => format!("{h}.{}.{sig}", payload_part(&s.claims)),
            _ => {
                return Err(format!(
                    "certificate {} without its signature",
                    s.claims.cert_id
                ))
            }
        };
        Ok(Certificate {
            claims: s.claims,
            token,
            status: s.status,
            superseded_by: s.superseded_by,
            superseded_at: s.superseded_at,
        })
    }
}

/// What a certificate's PDF shows: the signed claims, the holder in full (it is the
/// holder's document) and the facts its paper form carries (DOMAIN.md "Certificates'
/// content"), as the case held them when the PDF was made. The PDF's seal covers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPage {
    /// 出生医学证明, 预防接种证, ...
    pub title: String,
    pub cert_id: String,
    pub number: String,
    pub holder: String,
    pub issuer: String,
    /// `2026年12月01日` (Asia/Shanghai).
    pub issued_on: String,
    /// For the PDF's metadata: (year, month, day, hour, minute, second) in UTC.
    pub issued_utc: (u16, u8, u8, u8, u8, u8),
    /// The short verify URL (with its check code): what the QR code holds.
    pub verify_url: String,
    /// The same without the code, printed under the QR code.
    pub verify_page: String,
    /// The certified facts, (label, value), in the paper form's order.
    pub facts: Vec<(String, String)>,
}

impl Certificate {
    /// `{public_base}/v1/verify/{cert_id}?t={code}`: what the QR code holds. Short (under
    /// 100 characters with a usual host) so that the code stays scannable when printed;
    /// the code ([`Certificate::check_code`]) ties the URL to this very certificate. The
    /// signed token itself is in the PDF and the certificates' list, for checks offline.
    pub fn verify_url(&self, public_base: &str) -> String {
        format!("{}?t={}", self.verify_page(public_base), self.check_code())
    }
    /// 16 base64url characters (96 bits) of the SHA-256 of the signed token: nobody can
    /// guess it from the certificate id, and it changes with every signature.
    pub fn check_code(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.token.as_bytes());
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        text[..16].to_string()
    }
    pub fn verify_page(&self, public_base: &str) -> String {
        format!(
            "{}/v1/verify/{}",
            public_base.trim_end_matches('/'),
            self.claims.cert_id
        )
    }
    /// The page of this certificate's PDF: the holder named in full and the facts.
    pub fn page(
        &self,
        public_base: &str,
        holder: String,
        facts: Vec<(String, String)>,
    ) -> DocumentPage {
        use chrono::{Datelike, Timelike};
        let c = &self.claims;
        let local = c.issued_at.with_timezone(&crate::calendar::shanghai());
        let utc = c.issued_at.with_timezone(&chrono::Utc);
        DocumentPage {
            title: c.kind.name_zh().to_string(),
            cert_id: c.cert_id.clone(),
            number: c.number.clone(),
            holder,
            issuer: c.issuer.clone(),
            issued_on: local.format("%Y年%m月%d日").to_string(),
            issued_utc: (
                utc.year() as u16,
                utc.month() as u8,
                utc.day() as u8,
                utc.hour() as u8,
                utc.minute() as u8,
                utc.second() as u8,
            ),
            verify_url: self.verify_url(public_base),
            verify_page: self.verify_page(public_base),
            facts,
        }
    }
    /// Where its PDF is stored (written once).
    pub fn document_key(&self, case_id: &str) -> String {
        format!("certificates/{case_id}/{}.pdf", self.claims.cert_id)
    }
}

/// A name masked for strangers: first and last character kept (`王*溪`, `李*`).
pub fn mask_holder(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => format!("{}*", chars[0]),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// The name of the county whose division code begins `code` (an ID number, an insurance
/// or card number), or "" when the code names none.
pub fn county_name(code: &str) -> String {
    crate::idnum::Divisions::current()
        .name(code.get(..6).unwrap_or(""))
        .unwrap_or("")
        .to_string()
}

/// The real name of a county's unit of `dept` that issues documents, by the naming the
/// province's units follow: a district's police is a branch of its city's bureau
/// (`杭州市公安局西湖区分局`), a county or county-level city's its own bureau
/// (`淳安县公安局`); medical security and HR & social security are the district's
/// bureaus under the city's name (`杭州市西湖区医疗保障局`). "" when the code names no
/// county in force.
pub fn unit_name(dept: crate::flow::Dept, code: &str) -> String {
    use crate::flow::Dept;
    let d = crate::idnum::Divisions::current();
    let Some(county) = code.get(..6).and_then(|c| d.name(c)) else {
        return String::new();
    };
    let city = code
        .get(..4)
        .and_then(|c| d.name(&format!("{c}00")))
        .unwrap_or("");
    let district = county.ends_with('区');
    match (dept, district) {
        (Dept::Police, true) => format!("{city}公安局{county}分局"),
        (Dept::Police, false) => format!("{county}公安局"),
        (Dept::MedicalInsurance, true) => format!("{city}{county}医疗保障局"),
        (Dept::MedicalInsurance, false) => format!("{county}医疗保障局"),
        (Dept::Hrss, true) => format!("{city}{county}人力资源和社会保障局"),
        (Dept::Hrss, false) => format!("{county}人力资源和社会保障局"),
        _ => String::new(),
    }
}

/// The case id a certificate id names (`{case_id}-{code}{generation}`).
pub fn case_of(cert_id: &str) -> Option<&str> {
    let (case, rest) = cert_id.rsplit_once('-')?;
    (rest.len() > 3 && rest[3..].bytes().all(|b| b.is_ascii_digit()) && !case.is_empty())
        .then_some(case)
}

/// The certificates a step just done issues (their claims, to be signed), for results
/// without a valid certificate of the same content: a retried step issues nothing twice,
/// and a result a correction changed gets a new generation.
pub fn due(step: Step, case: &Case) -> Vec<Claims> {
    let state = case.step(step);
    let Some(issued_at) = state.finished_at else {
        return vec![];
    };
    let out = crate::steps::of(step).certificates(case);
    out.into_iter()
        .filter(|(kind, number, issuer)| {
            let holder = mask_holder(&holder_of(case, *kind));
            // Reissued when anything it certifies changed: the number, or the holder's
            // name even when the number stands (a surname corrected after completion).
            !case.certificates().iter().any(|c| {
                c.status == CertStatus::Valid
                    && c.claims.kind == *kind
                    && c.claims.number == *number
                    && c.claims.issuer == *issuer
                    && c.claims.holder == holder
            })
        })
        .map(|(kind, number, issuer)| {
            let generation = 1 + case
                .certificates()
                .iter()
                .filter(|c| c.claims.kind == kind)
                .count();
            Claims {
                cert_id: format!("{}-{}{generation}", case.case_id(), kind.code()),
                kind,
                number,
                issued_at,
                issuer,
                holder: mask_holder(&holder_of(case, kind)),
            }
        })
        .collect()
}

/// Whose document it is: the newborn's, except the maternity-benefit decision, which is
/// the mother's.
pub fn holder_of(case: &Case, kind: CertKind) -> String {
    match kind {
        CertKind::MaternityBenefitDecision => case.form().mother.name.clone(),
        _ => case.form().newborn.name.clone(),
    }
}

/// The page of a certificate's PDF, with the facts its department certifies from the case.
pub fn document_page(case: &Case, c: &Certificate, public_base: &str) -> DocumentPage {
    let kind = c.claims.kind;
    let facts = crate::steps::of(kind.step())
        .document_facts(case, kind)
        .into_iter()
        .map(|(label, value)| (label.to_string(), value))
        .collect();
    c.page(public_base, holder_of(case, kind), facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            cert_id: "BC2026120236C532425915-BMC1".into(),
            kind: CertKind::BirthMedicalCertificate,
            number: "Q000000001".into(),
            issued_at: chrono::DateTime::parse_from_rfc3339("2026-12-02T11:07:33.172112095+08:00")
                .unwrap(),
            issuer: "浙江大学医学院附属妇产科医院".into(),
            holder: "王*溪".into(),
        }
    }

    #[test]
    fn issuers_are_named_as_the_provinces_units_are() {
        use crate::flow::Dept;
        assert_eq!(unit_name(Dept::Police, "330106"), "杭州市公安局西湖区分局");
        assert_eq!(unit_name(Dept::Police, "330127"), "淳安县公安局");
        assert_eq!(unit_name(Dept::Police, "330381"), "瑞安市公安局");
        assert_eq!(
            unit_name(Dept::MedicalInsurance, "330302202612060027"),
            "温州市鹿城区医疗保障局"
        );
        assert_eq!(
            unit_name(Dept::Hrss, "330106"),
            "杭州市西湖区人力资源和社会保障局"
        );
        assert_eq!(unit_name(Dept::Police, "999999"), "");
    }

    #[test]
    fn a_certificate_is_stored_without_its_payload_and_read_back_whole() {
        let claims = claims();
        let token = format!("aGVhZGVy.{}.c2ln", payload_part(&claims));
        let c = Certificate {
            claims,
            token: token.clone(),
            status: CertStatus::Valid,
            superseded_by: None,
            superseded_at: None,
        };
        let stored = serde_json::to_value(&c).unwrap();
        assert_eq!(stored.get("token"), None, "{stored}");
        assert_eq!(stored["header"], "aGVhZGVy");
        assert_eq!(stored["signature"], "c2ln");
        let back: Certificate = serde_json::from_value(stored).unwrap();
        assert_eq!(back.token, token);
        assert_eq!(back, c);
    }

    #[test]
    fn a_token_over_other_bytes_and_an_older_record_are_kept_whole() {
        let odd = Certificate {
            claims: claims(),
            token: "aGVhZGVy.b3RoZXI.c2ln".into(),
            status: CertStatus::Superseded,
            superseded_by: Some("X-BMC2".into()),
            superseded_at: None,
        };
        let stored = serde_json::to_value(&odd).unwrap();
        assert_eq!(stored["token"], "aGVhZGVy.b3RoZXI.c2ln");
        assert_eq!(serde_json::from_value::<Certificate>(stored).unwrap(), odd);
        let older = serde_json::json!({"claims": claims(), "token": "a.b.c", "status": "valid"});
        assert_eq!(
            serde_json::from_value::<Certificate>(older).unwrap().token,
            "a.b.c"
        );
        let broken = serde_json::json!({"claims": claims(), "status": "valid"});
        assert!(serde_json::from_value::<Certificate>(broken).is_err());
    }

    #[test]
    fn holders_are_masked_and_ids_name_their_case() {
        assert_eq!(mask_holder("王小溪"), "王*溪");
        assert_eq!(mask_holder("李梅"), "李*");
        assert_eq!(mask_holder("欧阳小明"), "欧**明");
        assert_eq!(
            case_of("BC2026120236C532425915-BMC1"),
            Some("BC2026120236C532425915")
        );
        assert_eq!(case_of("BC1-X"), None);
        assert_eq!(case_of("nothing"), None);
    }
}

//! Certificates' PDFs from the real `onething serve`: each of a completed case's six opens
//! as one A4 page with an embedded font subset and its Chinese text, renders to an image
//! whose QR code decodes to the certificate's verify_url (which the server verifies), and
//! the offline verifier (`onething verify FILE.pdf --keys`) accepts the file as served and
//! refuses it once altered. Needs poppler-utils and fonts-wqy-microhei (Debian; installed
//! by scripts/test).

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use testkit::family;
use testkit::serve::Serve;

const SECRET: &str = "pdf-test-secret-0123456789abcdef0123456789";

fn onething(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onething"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run onething")
}

/// A poppler tool's standard output (scripts/test installs poppler-utils).
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (Debian: apt-get install poppler-utils)"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn get_bytes(url: &str, token: Option<&str>) -> (u16, http::HeaderMap, Vec<u8>) {
    testkit::http::Http::default().bytes(url, token).await
}

async fn get_json(url: &str, token: Option<&str>) -> Value {
    let (status, _, body) = get_bytes(url, token).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// The text in the QR code of a rendered page (a binary PGM, as `pdftoppm -gray` writes).
fn qr_in(pgm: &[u8]) -> String {
    let mut fields = vec![];
    let mut at = 0;
    while fields.len() < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5", "a binary greyscale image");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = &pgm[at + 1..];
    assert_eq!(pixels.len(), w * h);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = img.detect_grids();
    if grids.is_empty() {
        std::fs::write("/tmp/qr-debug.pgm", pgm).ok();
    }
    assert_eq!(grids.len(), 1, "one QR code on the page");
    grids[0].decode().expect("the QR code decodes").1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_cases_certificate_pdfs_open_render_verify_by_qr_code_and_show_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(
        Path::new(env!("CARGO_BIN_EXE_onething")),
        &dir.path().join("data"),
        &[],
        [("ONETHING_JWT_SECRET", SECRET)],
    );
    let base = server.base.clone();
    let http = testkit::http::Http::default();
    let g = testkit::tokens::sign(SECRET.as_bytes(), "guardian", None, family::FATHER_A);
    let form = family::form_a();
    http.record_birth(&base, SECRET.as_bytes(), &form).await;
    let r = http
        .json(
            "POST",
            &format!("{base}/v1/applications"),
            &g,
            &form,
            Some("pdf-1"),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["case_id"].as_str().unwrap().to_string();
    let mut status = Value::Null;
    for _ in 0..600 {
        status = get_json(&format!("{base}/v1/cases/{id}"), Some(&g)).await["status"].clone();
        if status == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "completed");

    let keys = get_json(&format!("{base}/.well-known/onething-keys.json"), None).await;
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    let keys_arg = keys_file.to_str().unwrap();
    let list = get_json(&format!("{base}/v1/cases/{id}/certificates"), Some(&g)).await;
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 6);
    for c in certs {
        let cert_id = c["cert_id"].as_str().unwrap();
        let url = c["document_url"].as_str().expect("a document_url");
        let (status, headers, pdf) = get_bytes(url, None).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            pdf.len() < 200_000,
            "{cert_id}: {} bytes (a font subset)",
            pdf.len()
        );
        let file = dir.path().join(format!("{cert_id}.pdf"));
        std::fs::write(&file, &pdf).unwrap();
        // ONETHING_KEEP_PDFS=DIR keeps a copy of each to look at.
        if let Ok(keep) = std::env::var("ONETHING_KEEP_PDFS") {
            std::fs::write(
                Path::new(&keep).join(format!("{}.pdf", c["kind"].as_str().unwrap())),
                &pdf,
            )
            .unwrap();
        }
        let path = file.to_str().unwrap();

        // Parsed: one A4 page, the font embedded as a subset, the Chinese text extractable.
        let info = poppler("pdfinfo", &[path]);
        assert!(info.contains("Pages:           1"), "{info}");
        assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
        let fonts = poppler("pdffonts", &[path]);
        let font_line = fonts.lines().nth(2).expect("a font");
        assert!(font_line.contains('+'), "a subset font name: {fonts}");
        assert!(
            font_line.contains(" yes yes "),
            "embedded and subset: {fonts}"
        );
        let text = poppler("pdftotext", &[path, "-"]);
        assert!(text.contains(c["name"].as_str().unwrap()), "{text}");
        assert!(text.contains(c["number"].as_str().unwrap()), "{text}");
        assert!(text.contains(c["issuer"].as_str().unwrap()), "{text}");
        // The certified facts of its kind, the holder named in full (DOMAIN.md
        // "Certificates' content").
        let facts: &[&str] = match c["kind"].as_str().unwrap() {
            "birth_medical_certificate" => &[
                "持 证 人：王小溪",
                "性别：女",
                "出生孕周",
                "出生体重：3250克",
                "出生身长：50厘米",
                "出生地点：浙江省杭州市西湖区",
                "母亲姓名：李梅",
                "330106199203040223",
                "父亲姓名：王海",
                "330106199001010130",
                "助产机构",
            ],
            "vaccination_certificate" => &["王小溪", "母亲姓名：李梅", "接种单位", "建证日期"],
            "household_registration" => &["王小溪", "民族：汉族", "户号", "登记日期", "出生地"],
            "medical_insurance_enrolment" => &["王小溪", "险种：城乡居民基本医疗保险", "参保地"],
            "social_security_card" => &["王小溪", "公民身份号码（社会保障号码）", "领取方式"],
            "maternity_benefit_decision" => &["持 证 人：李梅", "330106199203040223", "核定结果"],
            other => panic!("unexpected kind {other}"),
        };
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for fact in facts {
            assert!(flat.contains(fact), "{}: no {fact} in {text}", c["kind"]);
        }
        if c["kind"] == "household_registration" || c["kind"] == "social_security_card" {
            let case = get_json(&format!("{base}/v1/cases/{id}"), Some(&g)).await;
            let newborn_id = case["results"]["newborn_id_number"].as_str().unwrap();
            assert!(text.contains(newborn_id), "the ID number in full: {text}");
        }

        // The offline verifier accepts the file as served.
        let out = onething(&["verify", path, "--keys", keys_arg]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert_eq!(v["valid"], true);
        assert_eq!(v["document"], "intact");
        assert_eq!(v["cert_id"], c["cert_id"]);
        assert_eq!(v["number"], c["number"]);

        // Served twice, the same bytes: the document is stored once.
        let again = get_json(&format!("{base}/v1/cases/{id}/certificates"), Some(&g)).await;
        let url2 = again["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["cert_id"] == c["cert_id"])
            .unwrap()["document_url"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(get_bytes(&url2, None).await.2, pdf);
    }

    // One page rendered to an image: its QR code holds the verify_url, which verifies.
    let bmc = certs
        .iter()
        .find(|c| c["kind"] == "birth_medical_certificate")
        .unwrap();
    let file = dir
        .path()
        .join(format!("{}.pdf", bmc["cert_id"].as_str().unwrap()));
    let png_base = dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-r",
            "300",
            "-gray",
            "-singlefile",
            file.to_str().unwrap(),
            png_base.to_str().unwrap(),
        ],
    );
    let pgm = std::fs::read(dir.path().join("page.pgm")).unwrap();
    let in_qr = qr_in(&pgm);
    assert_eq!(in_qr, bmc["verify_url"].as_str().unwrap());
    let at = in_qr.find("/v1/verify/").unwrap();
    let v = get_json(&format!("{base}{}", &in_qr[at..]), None).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["status"], "valid");
    assert_eq!(v["number"], bmc["number"]);

    // Altered: one byte of the page changed, or the seal cut off.
    let pdf = std::fs::read(&file).unwrap();
    let mut altered = pdf.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 0x20;
    let altered_file = dir.path().join("altered.pdf");
    std::fs::write(&altered_file, &altered).unwrap();
    let out = onething(&["verify", altered_file.to_str().unwrap(), "--keys", keys_arg]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["valid"].clone(), v["document"].clone()),
        (false.into(), "altered".into())
    );
    let cut = &pdf[..pdf[..pdf.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1];
    std::fs::write(&altered_file, cut).unwrap();
    let out = onething(&["verify", altered_file.to_str().unwrap(), "--keys", keys_arg]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["document"], "not_sealed");
    // A key set that is not ours accepts nothing.
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, r#"{"keys": []}"#).unwrap();
    let out = onething(&[
        "verify",
        file.to_str().unwrap(),
        "--keys",
        foreign.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));

    // The archive holds each PDF with its checksum in the manifest.
    let case = get_json(&format!("{base}/v1/cases/{id}"), Some(&g)).await;
    let mut archived = false;
    for _ in 0..300 {
        let c = get_json(&format!("{base}/v1/cases/{id}"), Some(&g)).await;
        if !c["archive"].is_null() {
            archived = true;
            assert!(
                c["archive"]["files"].as_u64().unwrap() >= 7 + 6,
                "{}",
                c["archive"]
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(archived, "{case}");
}

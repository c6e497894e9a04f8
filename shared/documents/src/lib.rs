//! The PDF of an electronic certificate (电子证照): A4, the certificate's signed fields in
//! Chinese, its issuer and issue date, and a QR code of its `verify_url`, with only the
//! glyphs it uses of a CJK font embedded (krilla subsets the font).
//!
//! The document shows exactly what the certificate's signature covers (the holder masked
//! as in the claims), so a printed copy never says more than a verifier can check, and a
//! corrected case never leaves a stale name on a document that was not reissued.
//! Rendering is deterministic: the same inputs give the same bytes. The page itself
//! (`domain::certificate::DocumentPage`) shows the signed claims and nothing more.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use skrifa::MetadataProvider;
use std::path::Path;
use std::sync::Arc;

/// A4 in points.
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;

/// Where Debian's font packages put a font that covers both Latin and the whole block of
/// CJK Unified Ideographs (fonts-wqy-microhei first: Apache-2.0, one collection).
/// Droid Sans Fallback is not among them: it has no Latin letters or digits.
pub const DEFAULT_FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
];

pub use domain::certificate::DocumentPage as CertificatePage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The font has no glyph for this character: the document would print a blank box.
    MissingGlyph(char),
    Qr(String),
    Pdf(String),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Not the character: it may be part of a name (logs carry no personal data).
            RenderError::MissingGlyph(_) => write!(f, "the font lacks a glyph the page needs"),
            RenderError::Qr(e) => write!(f, "QR code: {e}"),
            RenderError::Pdf(e) => write!(f, "PDF: {e}"),
        }
    }
}

impl std::error::Error for RenderError {}

impl ports::CertRenderer for Renderer {
    fn render(&self, page: &CertificatePage) -> Result<Vec<u8>, String> {
        Renderer::render(self, page).map_err(|e| e.to_string())
    }
}

/// A renderer holding one parsed font.
#[derive(Clone)]
pub struct Renderer {
    font: Font,
    data: Arc<Vec<u8>>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("font_bytes", &self.data.len())
            .finish()
    }
}

impl Renderer {
    /// A renderer with the font in `bytes` (TrueType/OpenType; the first face of a
    /// collection). None when the bytes are not a font.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Renderer> {
        let data = Arc::new(bytes);
        let font = Font::new(data.clone().into(), 0)?;
        skrifa::FontRef::from_index(&data, 0).ok()?;
        Some(Renderer { font, data })
    }

    pub fn from_file(path: &Path) -> std::io::Result<Renderer> {
        let bytes = std::fs::read(path)?;
        Renderer::from_bytes(bytes).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a TrueType/OpenType font",
            )
        })
    }

    /// The first of `DEFAULT_FONT_PATHS` that holds a font.
    pub fn find_default() -> Option<(Renderer, &'static str)> {
        DEFAULT_FONT_PATHS
            .iter()
            .find_map(|p| Renderer::from_file(Path::new(p)).ok().map(|r| (r, *p)))
    }

    /// The first character of `text` the font cannot draw.
    pub fn missing(&self, text: &str) -> Option<char> {
        let font = skrifa::FontRef::from_index(&self.data, 0).ok()?;
        let map = font.charmap();
        text.chars()
            .filter(|c| !c.is_whitespace())
            .find(|c| map.map(*c).is_none_or(|g| g.to_u32() == 0))
    }

    /// The PDF of one certificate.
    pub fn render(&self, page: &CertificatePage) -> Result<Vec<u8>, RenderError> {
        let lines = layout(page);
        for (_, _, _, text) in &lines {
            if let Some(c) = self.missing(text) {
                return Err(RenderError::MissingGlyph(c));
            }
        }
        let qr = qrcode::QrCode::with_error_correction_level(
            page.verify_url.as_bytes(),
            qrcode::EcLevel::M,
        )
        .map_err(|e| RenderError::Qr(e.to_string()))?;

        let mut document = Document::new();
        let (y, mo, d, h, mi, s) = page.issued_utc;
        document.set_metadata(
            Metadata::new()
                .title(format!("{}（电子证照）", page.title))
                .creator("onething".to_string())
                .producer("onething".to_string())
                .language("zh-CN".to_string())
                .document_id(page.cert_id.clone())
                .creation_date(
                    DateTime::new(y)
                        .month(mo)
                        .day(d)
                        .hour(h)
                        .minute(mi)
                        .second(s)
                        .utc_offset_hour(0)
                        .utc_offset_minute(0),
                ),
        );
        let settings = PageSettings::from_wh(WIDTH, HEIGHT)
            .ok_or_else(|| RenderError::Pdf("page size".into()))?;
        let mut pdf_page = document.start_page_with(settings);
        let mut surface = pdf_page.surface();
        frame(&mut surface);
        surface.set_fill(Some(fill(rgb::Color::black())));
        for (x, y, size, text) in &lines {
            surface.draw_text(
                Point::from_xy(*x, *y),
                self.font.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        draw_qr(&mut surface, &qr, WIDTH - 70.0 - 200.0, 450.0, 200.0);
        surface.finish();
        pdf_page.finish();
        document
            .finish()
            .map_err(|e| RenderError::Pdf(format!("{e:?}")))
    }
}

fn fill(color: rgb::Color) -> Fill {
    Fill {
        paint: color.into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// Every line of text: (x, baseline y from the top, size, text).
fn layout(p: &CertificatePage) -> Vec<(f32, f32, f32, String)> {
    let left = 90.0;
    let mut out = vec![
        (
            left,
            120.0,
            12.0,
            "浙江省出生「一件事」联办　电子证照".to_string(),
        ),
        (left, 175.0, 30.0, p.title.clone()),
    ];
    let fields = [
        ("证照编号", p.number.as_str()),
        ("持 证 人", p.holder.as_str()),
        ("签发机构", p.issuer.as_str()),
        ("签发日期", p.issued_on.as_str()),
        ("证照标识", p.cert_id.as_str()),
    ];
    for (i, (label, value)) in fields.iter().enumerate() {
        let y = 260.0 + 42.0 * i as f32;
        out.push((left, y, 15.0, format!("{label}：")));
        out.push((left + 95.0, y, 15.0, value.to_string()));
    }
    out.push((
        left,
        680.0,
        11.0,
        "扫描上方二维码，核验本证照的真伪和当前状态。".to_string(),
    ));
    out.push((
        left,
        700.0,
        11.0,
        "本证照的核验页面（二维码另含核验码）：".to_string(),
    ));
    out.push((left, 718.0, 8.0, p.verify_page.clone()));
    out.push((
        left,
        770.0,
        10.0,
        "本证照由签发机构以电子签名出具，与纸质证照具有同等效力；以核验结果为准。".to_string(),
    ));
    out
}

fn frame(surface: &mut Surface) {
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(150, 30, 30).into(),
        width: 2.0,
        ..Default::default()
    }));
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(50.0, 60.0, WIDTH - 100.0, HEIGHT - 120.0) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        surface.draw_path(&path);
    }
    surface.set_stroke(None);
}

/// The QR code's dark modules as filled squares, with a quiet zone of four modules.
fn draw_qr(surface: &mut Surface, qr: &qrcode::QrCode, x: f32, y: f32, size: f32) {
    let n = qr.width();
    // Whole points per module at whole-point positions: short numbers in the content
    // stream (and crisp edges when printed).
    let module = (size / (n + 8) as f32).floor().max(1.0);
    let (x, y) = (x.round(), y.round());
    surface.set_fill(Some(fill(rgb::Color::white())));
    let mut bg = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, size, size) {
        bg.push_rect(r);
    }
    if let Some(path) = bg.finish() {
        surface.draw_path(&path);
    }
    surface.set_fill(Some(fill(rgb::Color::black())));
    // Each row's runs of dark modules as one rectangle: a third of the path a square per
    // module makes (the content stream is most of what the PDF writer compresses).
    let colors = qr.to_colors();
    let mut pb = PathBuilder::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < n && colors[row * n + col] == qrcode::Color::Dark {
                col += 1;
            }
            if let Some(r) = Rect::from_xywh(
                x + (start as f32 + 4.0) * module,
                y + (row as f32 + 4.0) * module,
                (col - start) as f32 * module,
                module,
            ) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.draw_path(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> CertificatePage {
        CertificatePage {
            title: "出生医学证明".into(),
            cert_id: "BC2026120100000000000001-BMC1".into(),
            number: "R330106000123".into(),
            holder: "王*溪".into(),
            issuer: "杭州市西湖区妇幼保健院".into(),
            issued_on: "2026年12月01日".into(),
            issued_utc: (2026, 12, 1, 2, 30, 0),
            verify_url: "http://127.0.0.1:8080/v1/verify/BC1-BMC1?t=abc.def.ghi".into(),
            verify_page: "http://127.0.0.1:8080/v1/verify/BC1-BMC1".into(),
        }
    }

    fn renderer() -> Option<Renderer> {
        let found = Renderer::find_default();
        if found.is_none() {
            // scripts/test installs fonts-wqy-microhei; without it this test cannot run.
            panic!("no CJK font in {DEFAULT_FONT_PATHS:?} (Debian: fonts-wqy-microhei)");
        }
        found.map(|(r, _)| r)
    }

    #[test]
    fn a_certificate_renders_to_a_small_deterministic_pdf_with_a_font_subset() {
        let r = renderer().unwrap();
        let a = r.render(&page()).unwrap();
        let b = r.render(&page()).unwrap();
        assert_eq!(a, b, "the same certificate renders to the same bytes");
        assert!(a.starts_with(b"%PDF-"));
        // The font is ~4 MB; only the used glyphs are embedded.
        assert!(a.len() < 200_000, "{} bytes", a.len());
        assert!(a.len() > 2_000, "{} bytes", a.len());
        if let Ok(out) = std::env::var("ONETHING_WRITE_SAMPLE_PDF") {
            std::fs::write(out, &a).unwrap();
        }
    }

    #[test]
    fn a_character_the_font_lacks_is_refused_rather_than_printed_as_a_box() {
        let r = renderer().unwrap();
        let mut p = page();
        p.holder = "王*\u{10FFFD}".into();
        assert_eq!(r.render(&p), Err(RenderError::MissingGlyph('\u{10FFFD}')));
        assert_eq!(
            r.missing("出生医学证明 R330106 ：「」（），。；abcXYZ://?=.-_"),
            None
        );
    }
}

//! The PDF of an electronic certificate (电子证照): A4, in Chinese, the facts its paper form
//! carries (`domain::steps::paper`, each department's `document_facts`), the holder named
//! in full (it is the holder's document), its number, issuer, issue date and a seal mark,
//! and a QR code of its short `verify_url`, with only the glyphs it uses of a CJK font
//! embedded (krilla subsets the font). The PDF's own seal (a signature over every byte,
//! added by the application) makes any change to those facts detectable.
//! Rendering is deterministic: the same inputs give the same bytes.

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
        let seal = seal_mark(page);
        for (_, _, _, text) in lines.iter().chain(&seal) {
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
        self.draw_lines(&mut surface, &lines);
        ring(&mut surface);
        surface.set_fill(Some(fill(rgb::Color::new(200, 30, 30))));
        self.draw_lines(&mut surface, &seal);
        draw_qr(&mut surface, &qr, QR.0, QR.1, QR.2);
        surface.finish();
        pdf_page.finish();
        document
            .finish()
            .map_err(|e| RenderError::Pdf(format!("{e:?}")))
    }
}

impl Renderer {
    /// Lines of text (x, baseline y, size, text) in the current fill.
    fn draw_lines(&self, surface: &mut Surface, lines: &[(f32, f32, f32, String)]) {
        for (x, y, size, text) in lines {
            surface.draw_text(
                Point::from_xy(*x, *y),
                self.font.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
    }
}

fn fill(color: rgb::Color) -> Fill {
    Fill {
        paint: color.into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// The width of `text` set at `size`, near enough to wrap lines (CJK a full em, Latin
/// and digits about half).
fn width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
        .sum::<f32>()
        * size
}

/// `text` cut into lines no wider than `max` at `size`.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in text.chars() {
        let line = out.last_mut().expect("a line");
        if !line.is_empty() && width(line, size) + width(&c.to_string(), size) > max {
            out.push(String::new());
        }
        out.last_mut().expect("a line").push(c);
    }
    out
}

const LEFT: f32 = 90.0;
/// Where the QR code and the seal mark go (top left corner, size).
const QR: (f32, f32, f32) = (WIDTH - 70.0 - 140.0, 620.0, 140.0);
const SEAL: (f32, f32, f32) = (300.0, 655.0, 44.0);

/// Lines of text set from the top down.
struct Lines {
    out: Vec<(f32, f32, f32, String)>,
    y: f32,
}

impl Lines {
    /// `text` at `size`, wrapped at `max` (continuation lines indented).
    fn add(&mut self, text: &str, size: f32, max: f32) {
        for (i, part) in wrap(text, size, max).into_iter().enumerate() {
            let x = if i == 0 { LEFT } else { LEFT + 2.0 * size };
            self.out.push((x, self.y, size, part));
            self.y += size + 7.0;
        }
    }
}

/// Every line of text: (x, baseline y from the top, size, text).
fn layout(p: &CertificatePage) -> Vec<(f32, f32, f32, String)> {
    let mut l = Lines {
        out: vec![
            (
                LEFT,
                110.0,
                12.0,
                "浙江省出生「一件事」联办　电子证照".to_string(),
            ),
            (LEFT, 160.0, 28.0, p.title.clone()),
        ],
        y: 205.0,
    };
    let full = WIDTH - LEFT - 70.0;
    l.add(&format!("证照编号：{}", p.number), 13.0, full);
    l.add(&format!("持 证 人：{}", p.holder), 13.0, full);
    l.y += 6.0;
    for (label, value) in &p.facts {
        l.add(&format!("{label}：{value}"), 11.5, full);
    }
    l.y = l.y.max(600.0) + 10.0;
    let beside_qr = QR.0 - LEFT - 10.0;
    l.add(&format!("签发机构：{}", p.issuer), 12.0, beside_qr);
    l.add(&format!("签发日期：{}", p.issued_on), 12.0, beside_qr);
    l.add(&format!("证照标识：{}", p.cert_id), 9.0, beside_qr);
    l.y += 8.0;
    l.add(
        "扫描右侧二维码，核验本证照的真伪和当前状态；核验页面：",
        9.5,
        beside_qr,
    );
    l.add(&p.verify_page, 8.0, beside_qr);
    l.add(
        "本证照由签发机构以电子签名出具，与纸质证照具有同等效力；以核验结果为准。",
        9.5,
        beside_qr,
    );
    l.out
}

/// The issuer's seal mark: a red ring with the issuer's name across it (a placeholder
/// where the operator has no seal image).
fn seal_mark(p: &CertificatePage) -> Vec<(f32, f32, f32, String)> {
    let (cx, cy, r) = SEAL;
    let name: String = p.issuer.chars().take(12).collect();
    let size = (1.6 * r / name.chars().count().max(1) as f32).min(11.0);
    vec![
        (cx - width(&name, size) / 2.0, cy + size / 3.0, size, name),
        (
            cx - width("电子印章", 7.0) / 2.0,
            cy + r * 0.55,
            7.0,
            "电子印章".into(),
        ),
    ]
}

fn ring(surface: &mut Surface) {
    let (cx, cy, r) = SEAL;
    let k = 0.552_284_8 * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(200, 30, 30).into(),
        width: 2.5,
        ..Default::default()
    }));
    if let Some(path) = pb.finish() {
        surface.draw_path(&path);
    }
    surface.set_stroke(None);
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
            holder: "王小溪".into(),
            issuer: "杭州市西湖区妇幼保健院".into(),
            issued_on: "2026年12月01日".into(),
            issued_utc: (2026, 12, 1, 2, 30, 0),
            verify_url: "http://127.0.0.1:8080/v1/verify/BC1-BMC1?t=abcdefghijklmnop".into(),
            verify_page: "http://127.0.0.1:8080/v1/verify/BC1-BMC1".into(),
            facts: vec![
                ("新生儿姓名".into(), "王小溪".into()),
                ("出生时间".into(), "2026年11月30日08时30分".into()),
                (
                    "待遇起始".into(),
                    "在缴费期限内缴费的，自出生之日起享受医保待遇；逾期缴费的，自缴费次日起享受"
                        .into(),
                ),
            ],
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
        // A long fact is wrapped, and every line stays inside the page's frame.
        for (x, _, size, text) in layout(&page()) {
            assert!(x + width(&text, size) <= WIDTH - 60.0, "{text}");
        }
        if let Ok(out) = std::env::var("ONETHING_WRITE_SAMPLE_PDF") {
            std::fs::write(out, &a).unwrap();
        }
    }

    #[test]
    fn a_character_the_font_lacks_is_refused_rather_than_printed_as_a_box() {
        let r = renderer().unwrap();
        let mut p = page();
        p.holder = "王\u{10FFFD}".into();
        assert_eq!(r.render(&p), Err(RenderError::MissingGlyph('\u{10FFFD}')));
        assert_eq!(
            r.missing("出生医学证明 R330106 ：「」（），。；abcXYZ://?=.-_"),
            None
        );
    }
}

//! Small PDF documents (shipping labels, packing slips): text in the standard Helvetica
//! faces, lines, and barcodes drawn as filled bars. The standard fonts need no embedding, so a
//! label is a few kilobytes and opens in any viewer or printer driver.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

/// Points per inch (PDF user space).
pub const INCH: f32 = 72.0;

const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// A document of one or more pages of the same size, drawn top-down in points.
pub struct Document {
    width: f32,
    height: f32,
    pages: Vec<Content>,
}

impl Document {
    pub fn new(width: f32, height: f32) -> Self {
        Self {
            width,
            height,
            pages: vec![Content::new()],
        }
    }

    /// Starts a new page; drawing continues on it.
    pub fn new_page(&mut self) {
        self.pages.push(Content::new());
    }

    fn page(&mut self) -> &mut Content {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Writes one line of text with its baseline `top` points below the top edge.
    pub fn text(&mut self, x: f32, top: f32, size: f32, bold: bool, text: &str) {
        let y = self.height - top;
        let bytes = win_ansi(text);
        let page = self.page();
        page.begin_text();
        page.set_font(if bold { BOLD } else { REGULAR }, size);
        page.next_line(x, y);
        page.show(Str(&bytes));
        page.end_text();
    }

    /// A horizontal rule across `x..x+width`, `top` points below the top edge.
    pub fn rule(&mut self, x: f32, top: f32, width: f32, thickness: f32) {
        let y = self.height - top;
        let page = self.page();
        page.rect(x, y - thickness / 2.0, width, thickness);
        page.fill_nonzero();
    }

    /// Draws barcode modules (1 = bar, 0 = space) left to right, each `module` points wide,
    /// from `top` down to `top + height`.
    pub fn bars(&mut self, x: f32, top: f32, module: f32, height: f32, modules: &[u8]) {
        let y = self.height - top - height;
        let page = self.page();
        let mut i = 0;
        while i < modules.len() {
            if modules[i] == 1 {
                // A run of bars is one rectangle, so a printer sees no seams inside a wide bar.
                let start = i;
                while i < modules.len() && modules[i] == 1 {
                    i += 1;
                }
                page.rect(
                    x + start as f32 * module,
                    y,
                    (i - start) as f32 * module,
                    height,
                );
            } else {
                i += 1;
            }
        }
        page.fill_nonzero();
    }

    /// The finished file.
    pub fn finish(self, title: &str) -> Vec<u8> {
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let first = 6;
        let page_ids: Vec<Ref> = (0..self.pages.len())
            .map(|i| Ref::new(first + 2 * i as i32))
            .collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            .count(page_ids.len() as i32);
        pdf.document_info(info)
            .title(pdf_writer::TextStr(title))
            .producer(pdf_writer::TextStr("Orderflow"));
        for (i, content) in self.pages.into_iter().enumerate() {
            let page_id = page_ids[i];
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, self.width, self.height));
            page.parent(tree);
            page.contents(content_id);
            page.resources()
                .fonts()
                .pair(REGULAR, regular)
                .pair(BOLD, bold);
            drop(page);
            pdf.stream(content_id, &content.finish());
        }
        pdf.type1_font(regular)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.finish()
    }
}

/// Text for the standard fonts in WinAnsi: Latin-1 and the common typographic marks, anything
/// else as `?` (the standard fonts have no glyphs for it).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            _ => match c as u32 {
                0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
                _ => b'?',
            },
        })
        .collect()
}

/// Shortens `text` to at most `max` characters, marking the cut.
pub fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_a_pdf_with_its_text() {
        let mut doc = Document::new(4.0 * INCH, 6.0 * INCH);
        doc.text(10.0, 20.0, 12.0, true, "Ship to: Zoë");
        doc.bars(10.0, 40.0, 1.0, 50.0, &[1, 1, 0, 1, 0, 0, 1]);
        doc.new_page();
        doc.text(10.0, 20.0, 12.0, false, "page two 東京");
        let bytes = doc.finish("Label");
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/Count 2"), "two pages");
        assert!(text.contains("Helvetica-Bold"));
    }

    #[test]
    fn characters_outside_latin1_become_question_marks() {
        assert_eq!(win_ansi("Zoë 東 €…"), b"Zo\xeb ? \x80\x85".to_vec());
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}

//! Aligned plain-text columns, laid out by `tabled`: two spaces between columns, the last
//! column not padded (no trailing spaces), optional ANSI styles on cells. The `table` report and
//! `perfcert list` print through it; what goes in the cells is theirs.

use anstyle::Style;
use tabled::builder::Builder;
use tabled::grid::util::string::get_text_width;
use tabled::settings::object::{Cell, Columns};
use tabled::settings::{Alignment, Color, Padding, Style as Lines};

/// Header and rows as aligned columns, every cell left-aligned, one line per row, each ending
/// in `\n`. Cells are single lines; widths are display widths.
pub fn columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let records: Vec<Vec<String>> =
        std::iter::once(header.iter().map(|h| h.to_string()).collect()).chain(rows.iter().cloned()).collect();
    Grid { records: &records, right: &[], header: None, cells: &[] }.render()
}

/// A layout with alignment and styles, for the reports.
pub(crate) struct Grid<'a> {
    /// The lines, header first; every record has the same number of cells.
    pub records: &'a [Vec<String>],
    /// Per column: right-aligned (numbers). Columns past its end are left-aligned.
    pub right: &'a [bool],
    /// A style for the whole first line.
    pub header: Option<Style>,
    /// Styles of single cells, by (record, column): only the text is styled, not its padding.
    pub cells: &'a [((usize, usize), Style)],
}

impl Grid<'_> {
    pub fn render(&self) -> String {
        let Some(last) = self.records.first().and_then(|r| r.len().checked_sub(1)) else { return String::new() };
        let mut builder = Builder::new();
        for record in self.records {
            builder.push_record(record.iter().map(String::as_str));
        }
        let mut table = builder.build();
        table.with(Lines::empty()).with(Padding::new(0, 2, 0, 0));
        table.modify(Columns::last(), Padding::zero());
        for (column, _) in self.right.iter().enumerate().filter(|(_, right)| **right) {
            table.modify(Columns::one(column), Alignment::right());
        }
        for &((row, column), style) in self.cells {
            table.modify(
                Cell::new(row, column),
                Color::new(style.render().to_string(), style.render_reset().to_string()),
            );
        }
        let text = table.to_string();

        // tabled pads the last column to its width too: cut that padding off each line.
        let last_width = self.records.iter().map(|r| get_text_width(&r[last])).max().unwrap_or(0);
        let mut out = String::with_capacity(text.len() + self.records.len());
        for (i, (line, record)) in text.split('\n').zip(self.records).enumerate() {
            let line = &line[..line.len() - (last_width - get_text_width(&record[last]))];
            match self.header.filter(|_| i == 0) {
                Some(style) => out.push_str(&format!("{style}{line}{style:#}")),
                None => out.push_str(line),
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    }

    #[test]
    fn two_spaces_between_columns_and_no_trailing_padding() {
        let rows = owned(&[&["20261122", "api", "v1.2.3", "PASS"], &["20261123", "billing-service", "v10", "FAIL"]]);
        assert_eq!(
            columns(&["DATE", "SERVICE", "VERSION", "STATUS"], &rows),
            "DATE      SERVICE          VERSION  STATUS\n\
             20261122  api              v1.2.3   PASS\n\
             20261123  billing-service  v10      FAIL\n"
        );
    }

    #[test]
    fn a_long_last_cell_pads_no_other_line_and_empty_cells_keep_their_place() {
        let rows = owned(&[&["a", "", "a-much-longer-last-cell"], &["bb", "x", ""]]);
        assert_eq!(columns(&["A", "B", "C"], &rows), "A   B  C\na      a-much-longer-last-cell\nbb  x  \n");
    }

    #[test]
    fn header_alone_and_nothing_at_all() {
        assert_eq!(columns(&["DATE", "SERVICE"], &[]), "DATE  SERVICE\n");
        assert_eq!(columns(&[], &[]), "");
    }

    #[test]
    fn widths_are_display_widths() {
        let rows = owned(&[&["±5%", "x"], &["日本", "y"]]);
        assert_eq!(columns(&["LIMIT", "Z"], &rows), "LIMIT  Z\n±5%    x\n日本   y\n");
    }

    #[test]
    fn styles_wrap_the_text_and_leave_the_alignment_alone() {
        let records = owned(&[&["NAME", "VALUE", "STATUS"], &["a", "1", "PASS"], &["bbb", "22", "FAIL"]]);
        let (bold, red) = (Style::new().bold(), anstyle::AnsiColor::Red.on_default());
        let grid = Grid {
            records: &records,
            right: &[false, true],
            header: Some(bold),
            cells: &[((2, 2), red), ((1, 0), red)],
        };
        assert_eq!(
            grid.render(),
            format!(
                "{bold}NAME  VALUE  STATUS{bold:#}\n{red}a{red:#}         1  PASS\nbbb      22  {red}FAIL{red:#}\n"
            )
        );
    }
}

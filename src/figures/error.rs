//! The error type of the figures module.

use std::path::PathBuf;

/// Why a figure could not be produced.
#[derive(thiserror::Error, Debug)]
pub enum FigureError {
    /// The plotting library failed, or the options cannot give a figure.
    #[error("cannot draw figure {name}: {message}")]
    Draw {
        /// The figure: the file name of its output stem.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A file or folder could not be written.
    #[error("cannot write {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No point had finite coordinates.
    #[error("figure {name} has no finite data to plot")]
    Empty {
        /// The figure: the file name of its output stem.
        name: String,
    },
}

impl FigureError {
    pub(crate) fn draw(name: &str, message: impl std::fmt::Display) -> Self {
        FigureError::Draw {
            name: name.to_string(),
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_figure_and_path() {
        let e = FigureError::draw("plane", "boom");
        assert_eq!(e.to_string(), "cannot draw figure plane: boom");
        let e = FigureError::Empty {
            name: "plane".into(),
        };
        assert_eq!(e.to_string(), "figure plane has no finite data to plot");
        let e = FigureError::Io {
            path: PathBuf::from("/x/y.png"),
            source: std::io::Error::other("denied"),
        };
        // The cause is chained, not repeated in the message.
        assert_eq!(e.to_string(), "cannot write /x/y.png");
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("denied"));
    }
}

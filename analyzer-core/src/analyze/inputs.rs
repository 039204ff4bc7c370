//! Which files a check reads: folders and bounce folders expanded into files, names shown in
//! the report (disambiguated), plugin sidecars read, and which file is the mix.

use std::path::{Path, PathBuf};

use crate::capture::{self, CaptureRole, CaptureSidecar};
use crate::error::{Error, Result};
use crate::report::Role;

/// One file of the delivery, before it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Where the file is.
    pub path: PathBuf,
    /// Name shown in the report.
    pub name: String,
    /// Stem, mix, or reference (another file whose name says mix: the check decides by
    /// content which candidate is the mix, see `analyze::candidates`).
    pub role: Role,
    /// The plugin's sidecar, when the file is a capture from a bounce folder.
    pub capture: Option<CaptureSidecar>,
}

/// What a folder held besides the audio files it contributes: nothing here is dropped
/// without a word except system debris (`._*` and other dot files, `Thumbs.db`, `desktop.ini`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Files that are not audio (documents, images, archives), in folder order.
    pub other: Vec<PathBuf>,
    /// Audio files in a format the analyzer does not read, each with its format's name.
    pub unread_audio: Vec<(PathBuf, &'static str)>,
}

/// What a file found in a delivery folder is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FolderEntry {
    /// WAV/BWF/RF64, AIFF/AIFF-C or FLAC (any case): read. The reader goes by content, so a
    /// mislabelled one is still read as what it is.
    Audio,
    /// System debris a copy leaves behind (macOS `._*` AppleDouble files, `.DS_Store` and
    /// other dot files, Windows `Thumbs.db` / `desktop.ini`): ignored silently, it is never
    /// part of a delivery.
    Debris,
    /// A plugin sidecar or bounce manifest beside its WAVs: read with them, not skipped.
    Metadata,
    /// Audio in a format not read (the format's name): named with a conversion hint.
    UnreadAudio(&'static str),
    /// Anything else (documents, images, archives): listed in one info.
    Other,
}

/// Extensions of audio formats that are not read, with their names.
const UNREAD_AUDIO: &[(&str, &str)] = &[
    ("mp3", "MP3"),
    ("mp2", "MPEG audio"),
    ("m4a", "AAC/ALAC in MP4"),
    ("aac", "AAC"),
    ("mp4", "MP4"),
    ("ogg", "Ogg Vorbis"),
    ("oga", "Ogg audio"),
    ("opus", "Opus"),
    ("wma", "Windows Media Audio"),
    ("caf", "Core Audio Format"),
    ("ape", "Monkey's Audio"),
    ("wv", "WavPack"),
    ("alac", "ALAC"),
    ("ac3", "AC-3"),
    ("ec3", "E-AC-3"),
    ("eac3", "E-AC-3"),
    ("dts", "DTS"),
    ("mka", "Matroska audio"),
    ("w64", "Sony Wave64"),
    ("sd2", "Sound Designer II"),
    ("dsf", "DSD"),
    ("dff", "DSD"),
    ("amr", "AMR"),
    ("au", "Sun audio"),
    ("snd", "Sun audio"),
    ("tta", "True Audio"),
];

/// Classifies a file found in a delivery folder by its name (see [`FolderEntry`]).
fn classify(path: &Path) -> FolderEntry {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    if name.starts_with('.') || lower == "thumbs.db" || lower == "desktop.ini" {
        return FolderEntry::Debris;
    }
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    if matches!(
        ext,
        "wav" | "wave" | "bwf" | "rf64" | "aif" | "aiff" | "aifc" | "flac"
    ) {
        return FolderEntry::Audio;
    }
    if let Some((_, format)) = UNREAD_AUDIO.iter().find(|(e, _)| *e == ext) {
        return FolderEntry::UnreadAudio(format);
    }
    if ext == "json" && is_capture_metadata(path, &name) {
        return FolderEntry::Metadata;
    }
    FolderEntry::Other
}

/// A bounce manifest, or a sidecar whose WAV is beside it (`X.stemcheck.json`, `X.json`,
/// `X.wav.json`: the names [`sidecar_role`] reads).
fn is_capture_metadata(path: &Path, name: &str) -> bool {
    if name == capture::BOUNCE_MANIFEST {
        return true;
    }
    let base = name
        .strip_suffix(capture::SIDECAR_SUFFIX)
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(name);
    let wav = path.with_file_name(base);
    wav.is_file() || path.with_file_name(format!("{base}.wav")).is_file()
}

/// Does the file name say it is the mix (mix, mixdown, master, 2mix; case-insensitive)?
pub fn name_says_mix(name: &str) -> bool {
    let base = name.rsplit_once('.').map_or(name, |(b, _)| b);
    base.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .any(|w| {
            matches!(
                w.as_str(),
                "mix" | "mixdown" | "master" | "2mix" | "fullmix" | "stereomix"
            )
        })
}

/// Expands files and folders into the list of files to check and decides which one is the mix.
///
/// A folder contributes its WAV, AIFF and FLAC files (`.wav`, `.wave`, `.bwf`, `.rf64`,
/// `.aif`, `.aiff`, `.aifc`, `.flac`, any case; not recursively). A file named explicitly is
/// always included, whatever its extension, so a mislabelled file is reported rather than
/// skipped. What else a folder holds is returned by [`collect_delivery`].
///
/// # Errors
/// A path that does not exist or cannot be listed, or no file at all to check.
pub fn collect_inputs(paths: &[PathBuf], mix: Option<&Path>) -> Result<Vec<Input>> {
    collect_delivery(paths, mix).map(|(inputs, _)| inputs)
}

/// [`collect_inputs`], and what the folders held that is not read ([`Skipped`]): files that
/// are not audio, and audio in formats that are not read. System debris is ignored.
///
/// # Errors
/// As [`collect_inputs`]; [`Error::NoInput`] names the audio files found in formats that are
/// not read, when those are all there is.
pub fn collect_delivery(paths: &[PathBuf], mix: Option<&Path>) -> Result<(Vec<Input>, Skipped)> {
    let Expanded {
        mut files,
        captures,
        bad_sidecars,
        skipped,
    } = expand(paths)?;
    if let Some(m) = mix
        && !m.exists()
    {
        return Err(Error::Io {
            path: m.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "mix file not found"),
        });
    }
    // The same file named twice (or the mix also inside a folder) is checked once.
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let mix_canon = mix.map(canon);
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(canon(f)) && Some(canon(f)) != mix_canon);
    if let Some(m) = mix {
        files.insert(0, m.to_owned());
    }
    if files.is_empty() {
        return Err(Error::NoInput {
            searched: paths.to_vec(),
            unread_audio: skipped.unread_audio.into_iter().map(|(p, _)| p).collect(),
        });
    }
    let mut inputs: Vec<Input> = files
        .into_iter()
        .map(|path| {
            let capture = captures
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, c)| c.clone());
            Input {
                name: file_name(&path),
                path,
                role: Role::Stem,
                capture,
            }
        })
        .collect();
    // A sidecar that cannot be read still names a capture the user expects to see.
    for e in bad_sidecars {
        if let Error::Sidecar { path, .. } | Error::Io { path, .. } = &e {
            let wav = sidecar_wav_path(path);
            if !inputs.iter().any(|i| i.path == wav) {
                inputs.push(Input {
                    name: file_name(&wav),
                    path: wav,
                    role: Role::Stem,
                    capture: None,
                });
            }
        }
    }
    disambiguate_names(&mut inputs);
    choose_mix(&mut inputs, mix.is_some());
    mark_references(&mut inputs);
    Ok((inputs, skipped))
}

/// Gives one input the mix role: the first when the user named the mix (`named_mix`), else the
/// one capture or sidecar that says so, else the one name that says so (see
/// [`name_says_mix`]; among several, the plainest).
fn choose_mix(inputs: &mut [Input], named_mix: bool) {
    if named_mix {
        inputs[0].role = Role::Mix;
    } else if let Some(i) = capture_mix_index(inputs).or_else(|| sidecar_mix_index(inputs)) {
        inputs[i].role = Role::Mix;
    } else {
        let candidates: Vec<usize> = (0..inputs.len())
            .filter(|&i| name_says_mix(&inputs[i].name))
            .collect();
        if candidates.len() == 1 {
            inputs[candidates[0]].role = Role::Mix;
        } else if candidates.len() > 1 {
            // Several names say mix: prefer the one that says "mix" over "master", then the
            // shortest name (the plainest "Song_Mix" over "Song_Mix_Instrumental").
            let rank = |i: usize| {
                let n = inputs[i].name.to_ascii_lowercase();
                (if n.contains("mix") { 0 } else { 1 }, n.len())
            };
            let best = candidates
                .into_iter()
                .min_by_key(|&i| rank(i))
                .expect("non-empty");
            inputs[best].role = Role::Mix;
        }
    }
}

/// Every other file whose name says mix (see [`name_says_mix`]) is a reference, not a stem:
/// a mastered or alternate mix beside the mix. The check then decides by content which
/// candidate the stems sum to, and gives a candidate that is part of the sum back to the stems
/// (`analyze::candidates`). A capture of a bounce folder or a file whose plugin sidecar says
/// "stem" stays a stem: the plugin's metadata is authoritative.
fn mark_references(inputs: &mut [Input]) {
    if !inputs.iter().any(|i| i.role == Role::Mix) {
        return;
    }
    for input in inputs.iter_mut() {
        if input.role == Role::Stem
            && input.capture.is_none()
            && name_says_mix(&input.name)
            && sidecar_role(&input.path).is_none()
        {
            input.role = Role::Reference;
        }
    }
}

/// Whether the mix was named by the user or by plugin metadata (authoritative), rather than
/// chosen among names that say mix.
pub(super) fn mix_is_authoritative(inputs: &[Input], named_mix: bool) -> bool {
    named_mix || capture_mix_index(inputs).is_some() || sidecar_mix_index(inputs).is_some()
}

/// A folder the plugin wrote: it has a bounce manifest or capture sidecars.
pub fn is_bounce_folder(dir: &Path) -> bool {
    dir.join(capture::BOUNCE_MANIFEST).is_file()
        || std::fs::read_dir(dir).is_ok_and(|mut it| {
            it.any(|e| {
                e.is_ok_and(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .ends_with(capture::SIDECAR_SUFFIX)
                })
            })
        })
}

/// The WAV a sidecar path belongs to (`X.stemcheck.json` -> `X.wav`).
fn sidecar_wav_path(sidecar: &Path) -> PathBuf {
    let name = sidecar
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(capture::SIDECAR_SUFFIX).unwrap_or(&name);
    sidecar.with_file_name(format!("{stem}.wav"))
}

/// Candidate sidecar paths of a capture WAV written by the plugin.
fn sidecar_candidates(wav: &Path) -> [PathBuf; 3] {
    let mut long = wav.as_os_str().to_owned();
    long.push(".json");
    [
        wav.with_extension("stemcheck.json"),
        wav.with_extension("json"),
        PathBuf::from(long),
    ]
}

/// The role a plugin sidecar gives a capture, if there is a sidecar that says one.
pub fn sidecar_role(wav: &Path) -> Option<Role> {
    sidecar_candidates(wav).iter().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        match v.get("role")? {
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("mix") => Some(Role::Mix),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("stem") => Some(Role::Stem),
            serde_json::Value::Number(n) => match n.as_u64()? {
                0 => Some(Role::Stem),
                1 => Some(Role::Mix),
                _ => None,
            },
            _ => None,
        }
    })
}

/// Index of the one capture whose sidecar says it is the mix.
fn capture_mix_index(inputs: &[Input]) -> Option<usize> {
    let mixes: Vec<usize> = (0..inputs.len())
        .filter(|&i| {
            inputs[i]
                .capture
                .as_ref()
                .is_some_and(|c| c.role == CaptureRole::Mix)
        })
        .collect();
    (mixes.len() == 1).then(|| mixes[0])
}

/// Index of the one input whose plugin sidecar says it is the mix.
fn sidecar_mix_index(inputs: &[Input]) -> Option<usize> {
    let mixes: Vec<usize> = (0..inputs.len())
        .filter(|&i| sidecar_role(&inputs[i].path) == Some(Role::Mix))
        .collect();
    (mixes.len() == 1).then(|| mixes[0])
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || super::names::lossless_path(path),
        super::names::lossless_name,
    )
}

/// Files of the same name from different folders are shown with their path.
fn disambiguate_names(inputs: &mut [Input]) {
    for i in 0..inputs.len() {
        if inputs.iter().filter(|o| o.name == inputs[i].name).count() > 1 {
            for j in 0..inputs.len() {
                if inputs[j].name == inputs[i].name && j != i {
                    inputs[j].name = super::names::lossless_path(&inputs[j].path);
                }
            }
            inputs[i].name = super::names::lossless_path(&inputs[i].path);
        }
    }
}

/// The files named or found in folders, and what the plugin's sidecars say about them.
struct Expanded {
    files: Vec<PathBuf>,
    /// Captures of bounce folders, by WAV path.
    captures: Vec<(PathBuf, CaptureSidecar)>,
    /// Sidecars that could not be read.
    bad_sidecars: Vec<Error>,
    /// What plain folders held that is not read.
    skipped: Skipped,
}

/// Expands files and folders (bounce folders through their sidecars) into files.
fn expand(paths: &[PathBuf]) -> Result<Expanded> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut captures: Vec<(PathBuf, CaptureSidecar)> = Vec::new();
    let mut bad_sidecars: Vec<Error> = Vec::new();
    let mut skipped = Skipped::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() && is_bounce_folder(p) {
            // A plugin bounce folder: the sidecars say which WAV is what.
            let bounce = capture::read_bounce(p)?;
            for c in bounce.captures {
                files.push(c.wav_path.clone());
                captures.push((c.wav_path, c.sidecar));
            }
            bad_sidecars.extend(bounce.unreadable);
        } else if meta.is_dir() {
            // Subfolders (`__MACOSX/` among them) are not read: a folder is one delivery.
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| !f.is_dir())
                .collect();
            found.sort();
            for f in found {
                match classify(&f) {
                    FolderEntry::Audio => files.push(f),
                    FolderEntry::Debris | FolderEntry::Metadata => {}
                    FolderEntry::UnreadAudio(format) => skipped.unread_audio.push((f, format)),
                    FolderEntry::Other => skipped.other.push(f),
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    Ok(Expanded {
        files,
        captures,
        bad_sidecars,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_names() {
        for n in [
            "Song_Mix.wav",
            "MIXDOWN.wav",
            "song-master.wav",
            "2mix.wav",
            "Final Mix v2.wav",
        ] {
            assert!(name_says_mix(n), "{n}");
        }
        for n in [
            "Song_Drums.wav",
            "Premixed_Bass.wav",
            "Remix_Vox.wav",
            "Mixer.wav",
        ] {
            assert!(!name_says_mix(n), "{n}");
        }
    }
}

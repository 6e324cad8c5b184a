//! Which instruction set the CPU kernels use.
//!
//! Detected once at run time; `CONCORD_CPU_ISA=avx512|avx2|portable` forces a path (one the CPU
//! has), so every path can be exercised on one machine. All paths produce the same bytes: the
//! fast ones keep each output's reduction order (f32) or are exact by construction (i8).

use std::sync::OnceLock;

/// A CPU code path of the matmul kernels, fastest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX-512F micro-kernels (12×32 f32); int8 through AVX-512 VNNI `vpdpbusd` when the CPU
    /// has it, else the AVX2 int8 path.
    Avx512,
    /// AVX2 + FMA micro-kernels (6×16 f32, 6×16 int8 through `vpmaddwd`).
    Avx2,
    /// Plain Rust, no target features: the fallback on every other CPU.
    Portable,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    /// Parses a name as `CONCORD_CPU_ISA` spells it.
    pub fn parse(s: &str) -> Option<Isa> {
        match s.trim().to_ascii_lowercase().as_str() {
            "avx512" => Some(Isa::Avx512),
            "avx2" => Some(Isa::Avx2),
            "portable" | "scalar" => Some(Isa::Portable),
            _ => None,
        }
    }

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Whether the int8 kernel of this path may use AVX-512 VNNI (`vpdpbusd`).
    pub(crate) fn has_vnni(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self == Isa::Avx512
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// Every path this CPU can run, fastest first.
    pub fn available() -> Vec<Isa> {
        [Isa::Avx512, Isa::Avx2, Isa::Portable]
            .into_iter()
            .filter(|i| i.supported())
            .collect()
    }

    /// The path the kernels use: `CONCORD_CPU_ISA` if set (and supported), else the fastest.
    pub fn active() -> Isa {
        static ACTIVE: OnceLock<Isa> = OnceLock::new();
        *ACTIVE.get_or_init(|| {
            let best = Isa::available()[0];
            match std::env::var("CONCORD_CPU_ISA") {
                Ok(v) => match Isa::parse(&v) {
                    Some(isa) if isa.supported() => isa,
                    Some(isa) => {
                        tracing::warn!(requested = isa.name(), using = best.name(), "CONCORD_CPU_ISA names a path this CPU lacks");
                        best
                    }
                    None => {
                        tracing::warn!(value = %v, using = best.name(), "CONCORD_CPU_ISA must be avx512, avx2 or portable");
                        best
                    }
                },
                Err(_) => best,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_portable_path_is_always_there() {
        for isa in [Isa::Avx512, Isa::Avx2, Isa::Portable] {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
        }
        assert_eq!(Isa::parse(" AVX2 "), Some(Isa::Avx2));
        assert_eq!(Isa::parse("sse9"), None);
        let paths = Isa::available();
        assert_eq!(paths.last(), Some(&Isa::Portable));
        assert!(paths.contains(&Isa::active()));
    }
}

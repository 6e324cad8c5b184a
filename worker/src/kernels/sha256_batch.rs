//! `sha256_batch`: the sha256 of each of `count` messages of `len` bytes, concatenated.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub fn sha256_batch(input: &[u8], count: usize, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; count * 32];
    out.par_chunks_mut(32).enumerate().for_each(|(i, d)| {
        d.copy_from_slice(&Sha256::digest(&input[i * len..(i + 1) * len]));
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_each_message() {
        let out = sha256_batch(b"abcabc", 2, 3);
        let abc = hex::decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            .unwrap();
        assert_eq!(&out[..32], &abc[..]);
        assert_eq!(&out[32..], &abc[..]);
        let empty = sha256_batch(b"", 2, 0);
        assert_eq!(
            hex::encode(&empty[..32]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

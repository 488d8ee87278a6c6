package io.cosmichorizons.pipeline.audit.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 keys for anchors (the JDK's own EdDSA). The private key lives in a PEM file outside the database
 * ({@code audit keygen} writes it with mode 600 and the public key next to it as {@code <file>.pub}); the verifier
 * trusts only public keys it is given. A key's id is {@code ed25519:} and the first 16 hex digits of the SHA-256 of
 * its X.509 encoding.
 */
public final class AnchorKeys {
    private static final String PRIVATE_PEM = "PRIVATE KEY";
    private static final String PUBLIC_PEM = "PUBLIC KEY";

    private AnchorKeys() {}

    /** A private key with its public half and id, ready to sign anchors. */
    public record Signer(PrivateKey privateKey, PublicKey publicKey, String keyId) {
        public byte[] sign(byte[] message) {
            try {
                Signature s = Signature.getInstance("Ed25519");
                s.initSign(privateKey);
                s.update(message);
                return s.sign();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("Ed25519 signing failed: " + e.getMessage(), e);
            }
        }
    }

    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is missing from this JDK", e);
        }
    }

    /** Generates a key pair into {@code privateFile} (mode 600 where supported) and {@code privateFile.pub}. */
    public static Signer generate(Path privateFile) throws IOException {
        if (Files.exists(privateFile)) {
            throw new IOException(privateFile + " exists; refusing to overwrite a signing key");
        }
        KeyPair pair = generate();
        Path parent = privateFile.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(privateFile, pem(PRIVATE_PEM, pair.getPrivate().getEncoded()));
        try {
            Files.setPosixFilePermissions(privateFile, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system; the operator protects the file
        }
        Files.writeString(publicFileOf(privateFile), pem(PUBLIC_PEM, pair.getPublic().getEncoded()));
        return new Signer(pair.getPrivate(), pair.getPublic(), keyId(pair.getPublic()));
    }

    /** The public key file that belongs to a private key file. */
    public static Path publicFileOf(Path privateFile) {
        return privateFile.resolveSibling(privateFile.getFileName() + ".pub");
    }

    /** Loads a private key file and the public key next to it. */
    public static Signer loadSigner(Path privateFile) throws IOException {
        Path pub = publicFileOf(privateFile);
        if (!Files.exists(pub)) {
            throw new IOException("The public key " + pub + " that belongs to " + privateFile + " is missing");
        }
        try {
            PrivateKey privateKey = KeyFactory.getInstance("Ed25519")
                    .generatePrivate(new PKCS8EncodedKeySpec(fromPem(Files.readString(privateFile), PRIVATE_PEM)));
            PublicKey publicKey = loadPublic(pub);
            Signer signer = new Signer(privateKey, publicKey, keyId(publicKey));
            byte[] probe = "horizons anchor key check".getBytes(StandardCharsets.UTF_8);
            if (!verify(publicKey, probe, signer.sign(probe))) {
                throw new IOException(pub + " is not the public half of " + privateFile);
            }
            return signer;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(privateFile + " is not an Ed25519 private key (PKCS#8 PEM): " + e.getMessage(), e);
        }
    }

    public static PublicKey loadPublic(Path file) throws IOException {
        try {
            return KeyFactory.getInstance("Ed25519")
                    .generatePublic(new X509EncodedKeySpec(fromPem(Files.readString(file), PUBLIC_PEM)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(file + " is not an Ed25519 public key (X.509 PEM): " + e.getMessage(), e);
        }
    }

    public static String keyId(PublicKey key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return "ed25519:" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static boolean verify(PublicKey key, byte[] message, byte[] signature) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(message);
            return s.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false; // a malformed signature is an invalid one
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    static byte[] fromPem(String text, String type) {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("no " + begin + " block");
        }
        return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    }
}

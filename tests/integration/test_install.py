"""Installing the extension: cmake --install, the Debian package (cpack -G
DEB) and the cluster init script (scripts/databricks-init.sh).

`.load airtable` hands the bare name to dlopen(), which finds airtable.so
only in the loader's system directories (/usr/lib/<multiarch>, /usr/lib):
hence the default prefix /usr and the package's /usr/lib/<multiarch>. The
package tests install it on this machine for real (root only), from another
directory, with a clean environment, and always remove it again.

The package is built from a fresh, plain configure of this checkout (never
the ASan build, which the suite may be testing): the build a user makes.
"""
import contextlib
import fcntl
import os
import pathlib
import subprocess

import pytest

from conftest import EXT, ROOT, child_env

INIT = ROOT / "scripts" / "databricks-init.sh"
PACKAGE = "airtable-sqlite"
VERSION = "0.1.0"
RUNTIME = ["libsqlite3-0", "libcurl4", "libcjson1", "zlib1g", "libdeflate0"]
BUILD_DEPS = ["cmake", "gcc", "make", "pkg-config", "libsqlite3-dev",
              "libcurl4-openssl-dev", "libcjson-dev", "zlib1g-dev", "libdeflate-dev"]
MODULE_COUNT = "select count(*) from pragma_module_list where name = 'airtable'"


def run(cmd, env=None, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          env=child_env() if env is None else env, **kw)


def clean_env(home):
    """Nothing from this process (no LD_PRELOAD, no LD_LIBRARY_PATH, no
    AIRTABLE_*): what a user's fresh shell has."""
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def multiarch():
    for cmd in (["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], ["gcc", "-print-multiarch"]):
        with contextlib.suppress(OSError):
            p = run(cmd)
            if p.returncode == 0 and p.stdout.strip():
                return p.stdout.strip()
    pytest.skip("not a Debian multiarch system")


def installed(package):
    p = run(["dpkg-query", "-W", "-f=${Status}", package])
    return p.returncode == 0 and "install ok installed" in p.stdout


def cache_value(build, name):
    for line in (build / "CMakeCache.txt").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split("=", 1)[1]
    return None


def test_cmake_install_puts_extension_command_and_header_in_place(tmp_path):
    build = pathlib.Path(EXT).parent
    if not (build / "CMakeCache.txt").exists():
        pytest.skip("the extension was not built by CMake here")
    libdir = cache_value(build, "CMAKE_INSTALL_LIBDIR")
    assert libdir, f"{build} was configured before GNUInstallDirs: rerun cmake -S . -B {build}"
    # lib/<multiarch> for prefix /usr (the default), lib for any other.
    prefix = cache_value(build, "CMAKE_INSTALL_PREFIX")
    assert libdir == (f"lib/{multiarch()}" if prefix == "/usr" else "lib"), (prefix, libdir)
    p = run(["cmake", "--install", build, "--prefix", tmp_path], timeout=120)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / libdir / "airtable.so").is_file()
    assert not (tmp_path / "lib" / "sqlite3").exists()
    exe = tmp_path / "bin" / "airtable-export"
    v = run([exe, "--version"], env=child_env(ASAN_OPTIONS="detect_leaks=0"), timeout=60)
    assert (v.returncode, v.stdout) == (0, f"airtable-export {VERSION}\n"), v.stderr
    header = (tmp_path / "include" / "airtable.h").read_text()
    assert "int sqlite3_airtable_init(sqlite3 *db, char **pzErrMsg," in header


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    """cmake -S . -B <tmp> with nothing chosen, built (plain, ~7 s)."""
    build = tmp_path_factory.mktemp("build")
    for cmd in (["cmake", "-S", ROOT, "-B", build, "-DBUILD_TESTING=OFF"],
                ["cmake", "--build", build, "-j2"]):
        p = run(cmd)
        assert p.returncode == 0, p.stdout + p.stderr
    return build


def test_default_install_goes_to_the_multiarch_library_dir(fresh_build, tmp_path):
    """With no prefix chosen, `cmake --install build` installs under /usr,
    the extension in /usr/lib/<multiarch>/ (here into DESTDIR)."""
    ma = multiarch()
    assert cache_value(fresh_build, "CMAKE_INSTALL_PREFIX") == "/usr"
    p = run(["cmake", "--install", fresh_build], env=child_env(DESTDIR=str(tmp_path)))
    assert p.returncode == 0, p.stderr
    files = sorted(str(f.relative_to(tmp_path)) for f in tmp_path.rglob("*") if f.is_file())
    assert files == ["usr/bin/airtable-export", "usr/include/airtable.h",
                     f"usr/lib/{ma}/airtable.so"]


@pytest.fixture(scope="module")
def deb(fresh_build):
    """cd build && cpack -G DEB: the package, in the build directory."""
    p = run(["cpack", "-G", "DEB"], cwd=fresh_build)
    assert p.returncode == 0, p.stdout + p.stderr
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    path = fresh_build / f"{PACKAGE}_{VERSION}_{arch}.deb"
    assert path.is_file(), p.stdout
    return path


def test_deb_declares_the_runtime_libraries_and_installs_under_usr(deb):
    f = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"])
    assert f.returncode == 0, f.stderr
    fields = dict(line.split(": ", 1) for line in f.stdout.splitlines())
    assert (fields["Package"], fields["Version"]) == (PACKAGE, VERSION)
    # "libcurl4 | libcurl4t64, libc6 (>= 2.34), ..." -> each alternative's name
    names = {alt.split()[0] for dep in fields["Depends"].split(",") for alt in dep.split("|")}
    assert set(RUNTIME) <= names, fields["Depends"]
    c = run(["dpkg-deb", "-c", deb])
    assert c.returncode == 0, c.stderr
    files = sorted(line.split()[-1] for line in c.stdout.splitlines() if line.startswith("-"))
    assert files == ["./usr/bin/airtable-export", "./usr/include/airtable.h",
                     f"./usr/lib/{multiarch()}/airtable.so"]
    # Nothing from cpack in the source tree.
    assert not (ROOT / "_CPack_Packages").exists()
    assert not list(ROOT.glob("*.deb"))


@contextlib.contextmanager
def package_installed_for_the_test():
    """Serialize with any other run of these tests, refuse to touch a
    package someone installed, and always remove ours."""
    if os.geteuid() != 0:
        pytest.skip("installing the package needs root (dpkg -i)")
    so = pathlib.Path("/usr/lib") / multiarch() / "airtable.so"
    with open("/tmp/airtable-sqlite-dpkg-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed(PACKAGE) or so.exists():
            pytest.skip(f"{PACKAGE} (or {so}) is already installed here: not touching it")
        try:
            yield so
        finally:
            r = run(["dpkg", "-r", PACKAGE])
            assert r.returncode == 0, r.stdout + r.stderr
            assert not so.exists() and not installed(PACKAGE)


def assert_loads_by_name(tmp_path):
    """`.load airtable` and load_extension('airtable') from a directory with
    no extension in it, in a clean environment."""
    env = clean_env(tmp_path)
    s = run(["sqlite3", ":memory:", ".load airtable", MODULE_COUNT], env=env, cwd=tmp_path)
    assert (s.returncode, s.stdout, s.stderr) == (0, "1\n", "")
    py = run(["/usr/bin/python3", "-c",
              "import sqlite3; c = sqlite3.connect(':memory:'); "
              "c.enable_load_extension(True); c.load_extension('airtable'); "
              f"print(c.execute({MODULE_COUNT!r}).fetchone()[0])"], env=env, cwd=tmp_path)
    assert (py.returncode, py.stdout) == (0, "1\n"), py.stderr
    v = run(["airtable-export", "--version"], env=env, cwd=tmp_path)
    assert (v.returncode, v.stdout) == (0, f"airtable-export {VERSION}\n"), v.stderr


def test_deb_installed_loads_by_bare_name_and_is_removed(deb, tmp_path):
    with package_installed_for_the_test() as so:
        i = run(["dpkg", "-i", deb])
        assert i.returncode == 0, i.stdout + i.stderr
        assert so.is_file()
        assert_loads_by_name(tmp_path)


def test_init_script_installs_a_package(deb, tmp_path):
    with package_installed_for_the_test():
        p = run([INIT, deb], env=clean_env(tmp_path), cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert "(load it as 'airtable')" in p.stderr
        assert_loads_by_name(tmp_path)


def test_init_script_builds_into_a_prefix(tmp_path):
    """AIRTABLE_SRC + AIRTABLE_PREFIX: built and installed there, loadable by
    full path (only prefix /usr makes the bare name work)."""
    missing = [p for p in RUNTIME + BUILD_DEPS if not installed(p)]
    if missing:
        pytest.skip("would apt-get install " + " ".join(missing))
    prefix = tmp_path / "prefix"
    env = clean_env(tmp_path)
    env.update(AIRTABLE_SRC=str(ROOT), AIRTABLE_PREFIX=str(prefix),
               AIRTABLE_BUILD_DIR=str(tmp_path / "build"))
    p = run([INIT], env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    so = prefix / "lib" / "airtable.so"
    assert f"(load it as '{so}')" in p.stderr
    py = run(["/usr/bin/python3", "-c",
              "import sqlite3, sys; c = sqlite3.connect(':memory:'); "
              "c.enable_load_extension(True); c.load_extension(sys.argv[1]); "
              f"print(c.execute({MODULE_COUNT!r}).fetchone()[0])", so],
             env=clean_env(tmp_path), cwd=tmp_path)
    assert (py.returncode, py.stdout) == (0, "1\n"), py.stderr
    v = run([prefix / "bin" / "airtable-export", "--version"], env=clean_env(tmp_path))
    assert (v.returncode, v.stdout) == (0, f"airtable-export {VERSION}\n"), v.stderr


def test_init_script_fails_loudly_when_the_extension_does_not_load(tmp_path):
    """A source tree whose install leaves an airtable.so that is no shared
    object: the script's check stops it, and says why."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(airtable_sqlite NONE)\n"
        "include(GNUInstallDirs)\n"
        "install(FILES bogus.so DESTINATION ${CMAKE_INSTALL_LIBDIR} RENAME airtable.so)\n")
    (src / "bogus.so").write_text("not an ELF file\n")
    env = clean_env(tmp_path)
    env.update(AIRTABLE_SRC=str(src), AIRTABLE_PREFIX=str(tmp_path / "prefix"))
    if not all(installed(p) for p in RUNTIME + BUILD_DEPS):
        pytest.skip("would apt-get install the build tools")
    p = run([INIT], env=env, cwd=tmp_path)
    assert p.returncode == 1
    assert "databricks-init: ERROR: python3 could not load the extension" in p.stderr, p.stderr
    assert "airtable.so" in p.stderr

"""Headless OpenGL: keep one context per process, draw a whole grid at once.

The context comes from pyrender's headless platforms (EGL or OSMesa), for the backend
:mod:`render.backend` chooses (one per process).

One pass per meta-image
-----------------------
A meta-image is one framebuffer of ``cols * tile`` x ``rows * tile`` pixels under a
fixed orthographic projection that spans the whole grid (each tile is a 2 x 2 square in
world units). The part is uploaded once, as shared vertices and an index buffer, and
drawn as ``rows * cols`` instances in one ``glDrawElementsInstanced`` call: instance
``k`` is rotated for its view and moved to tile ``k``'s centre. The normalised part lies
within a sphere of radius ``1 - margin``, so no instance can reach a neighbouring tile.
One ``glReadPixels`` returns the finished meta-image.

Face colours are looked up per primitive (``gl_PrimitiveID``) in a buffer texture of
RGBA8 colours computed on the CPU, and written without lighting: every pixel is either
background (0, 0, 0) or exactly the colour of the face it shows. The framebuffer has one
sample per pixel on every backend, so EGL and OSMesa give the same pixels (pyrender's
own renderer draws 4x multisampled on EGL, which blends colours along every edge).

This is pyrender's instancing idea with a leaner shader: pyrender computes a 4x4 matrix
inverse per vertex for lighting, repeats the vertices of every face to colour faces,
and reads back and linearises a depth buffer we do not need.

Why one module of this size: the GL context, shaders, buffers and the one instanced draw
share GL state that must not leak between modules.
"""

from __future__ import annotations

import ctypes
import logging
import threading

import numpy as np

from render.backend import resolve_backend, set_platform
from render.errors import RenderError
from render.mesh import STOCK_GREY, PreparedMesh, normal_colours

logger = logging.getLogger(__name__)

_renderer: GridRenderer | None = None
_lock = threading.Lock()

_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
layout(location = 1) in mat4 model;  // per instance; locations 1..4
uniform mat4 projection;
flat out int instance;
void main() {
    gl_Position = projection * (model * vec4(position, 1.0));
    instance = gl_InstanceID;
}
"""

_FRAGMENT_SHADER = """
#version 330 core
uniform samplerBuffer face_colours;
uniform int colour_stride;  // 0: one colour per face; n_faces: one per face and instance
flat in int instance;
out vec4 frag_colour;
void main() {
    frag_colour = texelFetch(face_colours, gl_PrimitiveID + instance * colour_stride);
}
"""


def _compile_program(GL) -> int:
    def compile_shader(kind, source):
        shader = GL.glCreateShader(kind)
        GL.glShaderSource(shader, source)
        GL.glCompileShader(shader)
        if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
            log = GL.glGetShaderInfoLog(shader)
            raise RenderError(f"GL shader did not compile: {log!r}")
        return shader

    vs = compile_shader(GL.GL_VERTEX_SHADER, _VERTEX_SHADER)
    fs = compile_shader(GL.GL_FRAGMENT_SHADER, _FRAGMENT_SHADER)
    program = GL.glCreateProgram()
    GL.glAttachShader(program, vs)
    GL.glAttachShader(program, fs)
    GL.glLinkProgram(program)
    if not GL.glGetProgramiv(program, GL.GL_LINK_STATUS):
        raise RenderError(f"GL program did not link: {GL.glGetProgramInfoLog(program)!r}")
    GL.glDeleteShader(vs)
    GL.glDeleteShader(fs)
    return program


class GridRenderer:
    """One GL context, program and buffers, reused for every meta-image this process draws.

    A GL context belongs to the thread that made it: use a renderer from one thread.
    """

    def __init__(self, backend: str = "auto"):
        self.backend = resolve_backend(backend)
        set_platform(self.backend)
        try:
            if self.backend == "egl":
                from pyrender.platforms.egl import EGLPlatform

                # The context draws into our own framebuffer; the platform's size is unused.
                self._platform = EGLPlatform(1, 1)
            else:
                from pyrender.platforms.osmesa import OSMesaPlatform

                self._platform = OSMesaPlatform(1, 1)
            self._platform.init_context()
            self._platform.make_current()
            from OpenGL import GL

            self._GL = GL
            self.gl_renderer = GL.glGetString(GL.GL_RENDERER).decode("ascii", "replace")
            self.gl_version = GL.glGetString(GL.GL_VERSION).decode("ascii", "replace")
            self._program = _compile_program(GL)
            self._vao = GL.glGenVertexArrays(1)
            (self._vbo, self._ibo, self._inst, self._colour_buf) = GL.glGenBuffers(4)
            self._colour_tex = GL.glGenTextures(1)
            self._max_texels = int(GL.glGetIntegerv(GL.GL_MAX_TEXTURE_BUFFER_SIZE))
            self._setup_vao()
        except RenderError:
            raise
        except Exception as exc:
            raise RenderError(f"could not create a {self.backend} GL context: {exc}") from exc
        self._fbo = None
        self._fbo_size: tuple[int, int] | None = None
        logger.debug("GL context: %s, %s, %s", self.backend, self.gl_renderer, self.gl_version)

    def _setup_vao(self) -> None:
        GL = self._GL
        GL.glBindVertexArray(self._vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._vbo)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 3, GL.GL_FLOAT, GL.GL_FALSE, 12, ctypes.c_void_p(0))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._inst)
        for col in range(4):  # a mat4 attribute is four vec4 columns
            GL.glEnableVertexAttribArray(1 + col)
            GL.glVertexAttribPointer(
                1 + col, 4, GL.GL_FLOAT, GL.GL_FALSE, 64, ctypes.c_void_p(16 * col)
            )
            GL.glVertexAttribDivisor(1 + col, 1)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._ibo)
        GL.glBindVertexArray(0)

    def _ensure_framebuffer(self, width: int, height: int) -> None:
        GL = self._GL
        if self._fbo_size == (width, height):
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
            return
        if self._fbo is not None:
            GL.glDeleteFramebuffers(1, [self._fbo])
            GL.glDeleteRenderbuffers(2, list(self._rbos))
        self._fbo = GL.glGenFramebuffers(1)
        self._rbos = GL.glGenRenderbuffers(2)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._rbos[0])
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, width, height)
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, self._rbos[0]
        )
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._rbos[1])
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, width, height)
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, self._rbos[1]
        )
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RenderError(f"GL framebuffer {width}x{height} incomplete (status {status:#x})")
        self._fbo_size = (width, height)

    def draw(
        self,
        vertices: np.ndarray,
        faces: np.ndarray,
        colours: np.ndarray,
        poses: np.ndarray,
        width: int,
        height: int,
        projection: np.ndarray,
        cull_back_faces: bool = False,
    ) -> np.ndarray:
        """Draw ``len(poses)`` instances of one indexed mesh and read the image back.

        Parameters
        ----------
        vertices : (v, 3) float32
        faces : (f, 3) uint32
        colours : (f, 4) or (n * f, 4) uint8
            RGBA per face, or per face and instance (instance-major).
        poses : (n, 4, 4) float
            Model matrix of each instance.
        width, height : int
            Framebuffer size in pixels.
        projection : (4, 4) float
            World -> clip matrix.
        cull_back_faces : bool
            Skip faces wound clockwise on screen (only for closed, outward-wound meshes).

        Returns
        -------
        (height, width, 3) uint8, row 0 at the top.
        """
        GL = self._GL
        n, f = len(poses), len(faces)
        if len(colours) not in (f, n * f):
            raise RenderError(f"expected {f} or {n * f} face colours, got {len(colours)}")
        if len(colours) > self._max_texels:
            raise RenderError(
                f"{len(colours)} face colours exceed this GL's texture buffer limit "
                f"({self._max_texels}); lower max_faces or use normals='object'"
            )
        self._platform.make_current()
        self._ensure_framebuffer(width, height)
        GL.glViewport(0, 0, width, height)
        GL.glClearColor(0.0, 0.0, 0.0, 1.0)
        GL.glClearDepth(1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        if cull_back_faces:
            GL.glEnable(GL.GL_CULL_FACE)
            GL.glCullFace(GL.GL_BACK)
            GL.glFrontFace(GL.GL_CCW)
        else:
            GL.glDisable(GL.GL_CULL_FACE)
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_MULTISAMPLE)

        GL.glUseProgram(self._program)
        GL.glBindVertexArray(self._vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._vbo)
        GL.glBufferData(
            GL.GL_ARRAY_BUFFER,
            vertices.nbytes,
            np.ascontiguousarray(vertices, np.float32),
            GL.GL_STREAM_DRAW,
        )
        # GLSL reads the four vec4 attributes as the matrix's columns: upload each transposed.
        inst = np.ascontiguousarray(np.transpose(poses, (0, 2, 1)), dtype=np.float32)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._inst)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, inst.nbytes, inst, GL.GL_STREAM_DRAW)
        idx = np.ascontiguousarray(faces, dtype=np.uint32)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._ibo)
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, idx.nbytes, idx, GL.GL_STREAM_DRAW)

        col = np.ascontiguousarray(colours, dtype=np.uint8)
        GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, self._colour_buf)
        GL.glBufferData(GL.GL_TEXTURE_BUFFER, col.nbytes, col, GL.GL_STREAM_DRAW)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, self._colour_tex)
        GL.glTexBuffer(GL.GL_TEXTURE_BUFFER, GL.GL_RGBA8, self._colour_buf)

        prog = self._program
        GL.glUniformMatrix4fv(
            GL.glGetUniformLocation(prog, "projection"),
            1,
            GL.GL_TRUE,
            np.ascontiguousarray(projection, dtype=np.float32),
        )
        GL.glUniform1i(GL.glGetUniformLocation(prog, "face_colours"), 0)
        GL.glUniform1i(GL.glGetUniformLocation(prog, "colour_stride"), f if len(colours) > f else 0)
        GL.glDrawElementsInstanced(GL.GL_TRIANGLES, 3 * f, GL.GL_UNSIGNED_INT, None, n)

        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        data = GL.glReadPixels(0, 0, width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        GL.glBindVertexArray(0)
        err = GL.glGetError()
        if err != GL.GL_NO_ERROR:
            raise RenderError(f"GL error {err:#x} while drawing {f} faces x {n} instances")
        image = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
        return np.ascontiguousarray(image[::-1])  # GL's row 0 is the bottom

    def render(
        self,
        prepared: PreparedMesh,
        rotations: np.ndarray,
        rows: int,
        cols: int,
        tile: int,
        margin: float,
        normals: str = "object",
        framing: str = "sphere",
    ) -> np.ndarray:
        """Draw every tile of one meta-image in one pass.

        Parameters
        ----------
        prepared : PreparedMesh
            Vertices within the unit sphere, faces, and part-frame face normals.
        rotations : (rows * cols, 3, 3) float
            Per-tile rotations, row-major (:func:`render.views.grid_rotations`).
        margin : float
            Free border on each tile side, as a fraction of half a tile.
        normals : {"object", "camera"}
            Colour by the part-frame normal, or by the normal as each tile's camera sees
            it (colours then differ per instance; still one draw call).
        framing : {"sphere", "view"}
            Scale every view alike, or fit each view's projection to its tile
            (:func:`render.views.view_framing`).

        Returns
        -------
        (rows * tile, cols * tile, 3) uint8
        """
        from render.views import tile_poses, view_framing

        poses = tile_poses(rows, cols, rotations)
        fit = view_framing(prepared.vertices, rotations, framing)
        scale = (1.0 - margin) * fit[:, 0]
        poses[:, :3, :3] *= scale[:, None, None]
        poses[:, :2, 3] -= scale[:, None] * fit[:, 1:]
        if normals == "object":
            rgb = normal_colours(prepared.normals)
        elif normals == "camera":
            # (n, f, 3): each tile's rotation applied to every face normal.
            rgb = normal_colours(np.einsum("kij,fj->kfi", rotations, prepared.normals))
            rgb = rgb.reshape(-1, 3)
        else:
            raise RenderError(f"normals: expected 'object' or 'camera', got {normals!r}")
        colours = np.empty((len(rgb), 4), dtype=np.uint8)
        colours[:, :3] = rgb
        colours[:, 3] = 255
        if prepared.stock is not None:  # RenderConfig.stock == "grey"
            n_faces = len(prepared.faces)
            grey = np.tile(prepared.stock, len(colours) // n_faces)  # camera mode: per tile
            colours[grey, :3] = STOCK_GREY
        # World x in [-cols, cols] and y in [-rows, rows] fill the framebuffer; the
        # viewer is at +z, so larger z is nearer and must get a smaller depth. x and y
        # keep their signs, so an outward face seen from outside stays counter-clockwise.
        projection = np.diag([1.0 / cols, 1.0 / rows, -0.5, 1.0])
        try:
            return self.draw(
                prepared.vertices,
                prepared.faces,
                colours,
                poses,
                cols * tile,
                rows * tile,
                projection,
                cull_back_faces=prepared.closed,
            )
        except RenderError:
            raise
        except Exception as exc:
            raise RenderError(
                f"{self.backend} render of {prepared.faces_out} faces x {rows * cols} tiles "
                f"failed: {exc}"
            ) from exc

    def check(self) -> None:
        """Draw one triangle and check its colour (used by the backend probe)."""
        vertices = np.array([[-1, -1, 0], [1, -1, 0], [0, 1, 0]], dtype=np.float32)
        faces = np.array([[0, 1, 2]], dtype=np.uint32)
        colours = np.array([[10, 20, 30, 255]], dtype=np.uint8)
        image = self.draw(vertices, faces, colours, np.eye(4)[None], 8, 8, np.eye(4))
        if tuple(image[4, 4]) != (10, 20, 30):
            raise RenderError(f"{self.backend}: test triangle drew {tuple(image[4, 4])}")

    def close(self) -> None:
        """Free the GL context."""
        if self._platform is not None:
            self._platform.delete_context()
            self._platform = None


def get_renderer(backend: str = "auto") -> GridRenderer:
    """The process's renderer, created on first use and reused after.

    Raises
    ------
    RenderError
        If no context can be made, or ``backend`` differs from the one this process uses.
    """
    global _renderer
    with _lock:
        if _renderer is None:
            _renderer = GridRenderer(backend)
        elif backend != "auto" and backend != _renderer.backend:
            raise RenderError(
                f"backend: this process renders with {_renderer.backend!r}; cannot switch to "
                f"{backend!r} (one GL backend per process)"
            )
        return _renderer

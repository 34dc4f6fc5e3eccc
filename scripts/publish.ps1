# Twin of publish.sh: publishes the server as one native executable for this machine: Release, Native AOT,
# runtime identifier of this system and processor (win-x64, linux-x64, osx-arm64, ...). The executable lands
# as DIR/echo-server (echo-server.exe on Windows; DIR defaults to src/EchoServer/bin/publish, ignored
# by git). Where Native AOT cannot build, it says so in one line and publishes a self-contained single file.
#   scripts/publish.ps1 [-Out DIR] [-SingleFile]
# -SingleFile skips Native AOT. Native AOT needs the platform's C toolchain: on Windows the Visual Studio
# "Desktop development with C++" workload; on Linux clang and zlib (apt-get install -y clang zlib1g-dev).
# Intermediate files go to src/EchoServer/bin/publish-build, apart from the bin/ and obj/ folders of an ordinary build.
param([string] $Out = '', [switch] $SingleFile)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @($Out | Where-Object { $_ -like '-*' }))
Assert-Dotnet

# The .NET runtime identifier of this machine.
$arch = switch ([Runtime.InteropServices.RuntimeInformation]::OSArchitecture) {
  'X64' { 'x64' } 'Arm64' { 'arm64' } 'Arm' { 'arm' }
  default { [Console]::Error.WriteLine("publish.ps1: unsupported processor '$_'"); exit 1 }
}
$os = if ($IsWindows -or $env:OS -eq 'Windows_NT') { 'win' } elseif ($IsMacOS) { 'osx' } elseif ($IsLinux) {
  if ((& ldd --version 2>&1 | Out-String) -match 'musl') { 'linux-musl' } else { 'linux' }
} else { [Console]::Error.WriteLine('publish.ps1: unsupported system'); exit 1 }
$rid = "$os-$arch"

if (-not $Out) { $Out = Join-Path $RepoRoot 'src/EchoServer/bin/publish' }
$Out = (New-Item -ItemType Directory -Force -Path $Out).FullName
$build = (New-Item -ItemType Directory -Force -Path (Join-Path $RepoRoot 'src/EchoServer/bin/publish-build')).FullName
$log = Join-Path $build 'publish.log'
$project = Join-Path $RepoRoot 'src/EchoServer/EchoServer.csproj'
$common = @('-c', 'Release', '-r', $rid, '-o', $Out, '--artifacts-path', $build, '-nologo',
  '-p:PublishDocumentationFiles=false', '-p:DebugType=none')

$aot = -not $SingleFile
if ($aot -and $os -like 'linux*' -and -not (Get-Command clang -ErrorAction SilentlyContinue)) {
  [Console]::Error.WriteLine('publish.ps1: Native AOT needs clang (apt-get install -y clang zlib1g-dev); publishing a self-contained single file instead')
  $aot = $false
}
if ($aot) {
  [Console]::Error.WriteLine("publishing echo-server (Native AOT, $rid) to $Out ...")
  & dotnet publish $project @common '-p:PublishAot=true' *> $log
  if ($LASTEXITCODE -eq 0) {
    Write-Output "$(Join-Path $Out 'echo-server') (Native AOT, $rid)"
    exit 0
  }
  [Console]::Error.WriteLine("publish.ps1: Native AOT did not build (see $log); publishing a self-contained single file instead")
}

[Console]::Error.WriteLine("publishing echo-server (self-contained single file, $rid) to $Out ...")
& dotnet publish $project @common '--self-contained' '-p:PublishSingleFile=true' '-p:PublishTrimmed=true' *> $log
if ($LASTEXITCODE -ne 0) {
  Get-Content $log | ForEach-Object { [Console]::Error.WriteLine($_) }
  [Console]::Error.WriteLine("publish.ps1: the self-contained publish failed too (log above, also in $log)")
  exit 1
}
Write-Output "$(Join-Path $Out 'echo-server') (self-contained single file, $rid)"
